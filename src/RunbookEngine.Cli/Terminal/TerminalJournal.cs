using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using Spectre.Console;

namespace RunbookEngine.Cli.Terminal;

/// <summary>Journals steps in memory and shows each as it starts and ends: the live progress of a local run.</summary>
internal sealed class TerminalJournal(IAnsiConsole console) : IStepJournal
{
    private readonly InMemoryStepJournal _inner = new();

    public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) => _inner.FindAsync(sequence, cancellationToken);

    public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        var icon = outcome.Status == StepStatus.WaitingForHuman ? "[yellow]?[/]" : "[blue]▶[/]";
        console.MarkupLine($"{icon} [bold]{outcome.Sequence}. {Markup.Escape(outcome.Name)}[/]");
        return _inner.StepStartedAsync(outcome, cancellationToken);
    }

    public ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        var duration = outcome.Duration is { } d ? Durations.Format(d) : "";
        var attempts = outcome.Attempts > 1 ? $", {outcome.Attempts} attempts" : "";
        var error = outcome.Error is null ? "" : ": " + Markup.Escape(outcome.Error);
        console.MarkupLine($"{Icon(outcome.Status)} {outcome.Sequence}. {Markup.Escape(outcome.Name)} [grey]({Status(outcome.Status)}, {duration}{attempts})[/]{error}");
        return _inner.StepFinishedAsync(outcome, cancellationToken);
    }

    public static string Icon(StepStatus status) => status switch
    {
        StepStatus.Succeeded => "[green]✓[/]",
        StepStatus.Skipped => "[grey]↷[/]",
        StepStatus.Cancelled or StepStatus.Interrupted => "[yellow]■[/]",
        StepStatus.TimedOut => "[red]⏱[/]",
        StepStatus.Running or StepStatus.WaitingForHuman => "[blue]…[/]",
        _ => "[red]✗[/]",
    };

    public static string Status(StepStatus status) => status switch
    {
        StepStatus.TimedOut => "timed out",
        StepStatus.WaitingForHuman => "waiting for a person",
        _ => status.ToString().ToLowerInvariant(),
    };
}
