using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using Spectre.Console;

namespace RunbookEngine.Cli.Terminal;

/// <summary>
/// Asks at the terminal. With --yes every human step is approved as the current user; when standard input is closed
/// the answer is no, so an unattended run never proceeds past a gate by accident.
/// </summary>
internal sealed class TerminalHumanGate(IAnsiConsole console, TextReader input, bool approveAll, TimeProvider time) : IHumanGate
{
    // One question at a time: concurrent steps must not interleave their prompts.
    private readonly Lock _one = new();

    public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken) =>
        Task.Run(() => Ask(request), cancellationToken);

    private HumanResponse Ask(HumanRequest request)
    {
        var user = Environment.UserName;
        if (approveAll)
        {
            console.MarkupLine($"   [yellow]│ {Markup.Escape(request.Text)}[/] [grey](approved by --yes)[/]");
            return new HumanResponse(true, $"{user} (--yes)", "approved with --yes", time.GetUtcNow());
        }

        using (_one.EnterScope())
        {
            var question = request.Kind == StepKind.Approval
                ? $"   [yellow]Approve:[/] {Markup.Escape(request.Text)} [[y/N]] "
                : $"   [yellow]Manual step:[/] {Markup.Escape(request.Text)}\n   Done? [[y/N]] ";
            console.Markup(question);
            var pickedUp = time.GetUtcNow();
            var answer = input.ReadLine();
            if (answer is null)
            {
                console.WriteLine();
                return new HumanResponse(false, user, "no answer: standard input is closed (use --yes to approve unattended)", pickedUp);
            }

            var approved = answer.Trim().ToLowerInvariant() is "y" or "yes";
            return new HumanResponse(approved, user, approved ? null : $"answered '{answer.Trim()}' at the terminal", pickedUp);
        }
    }
}
