using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary>
/// <c>runbook complete RUN STEP [--reject] [--comment TEXT] [--by NAME] [--picked-up-at TIME] --server URL</c>: answers
/// a step that waits for a person (an approval or a manual step) on a host.
/// </summary>
internal static class CompleteCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The run's id." };
        var step = new Argument<int>("STEP") { Description = "The step's sequence number in the run." };
        var reject = new Option<bool>("--reject") { Description = "Reject the step instead of completing it; the run fails." };
        var comment = new Option<string?>("--comment") { Description = "Why, kept in the run's journal." };
        var by = new Option<string>("--by") { Description = "Who answers.", DefaultValueFactory = _ => Environment.UserName };
        var pickedUpAt = new Option<string?>("--picked-up-at")
        {
            Description = "When you started on the step (ISO 8601), if not when it was offered; the toil report counts from then.",
        };
        pickedUpAt.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string?>();
            if (value is not null && !TryTime(value, out _))
            {
                result.AddError($"--picked-up-at '{value}' is not an ISO 8601 time such as 2026-11-24T10:00:00Z");
            }
        });
        var server = HostClient.ServerOption();
        var command = new Command("complete", "Complete or reject a step that waits for a person on a RunbookEngine host.")
        {
            run, step, reject, comment, by, pickedUpAt, server,
        };
        command.SetAction((parse, token) => RunAsync(
            new Uri(parse.GetValue(server)!), parse.GetValue(run)!, parse.GetValue(step), parse.GetValue(reject), parse.GetValue(comment), parse.GetValue(by)!,
            parse.GetValue(pickedUpAt), token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, string run, int step, bool reject, string? comment, string by, string? pickedUpAt, CancellationToken cancellationToken)
    {
        // The host reads "comment" and "pickedUpAt" as absent or set, so unset ones are left out rather than sent as null.
        var answer = new Dictionary<string, object> { ["by"] = by, ["reject"] = reject };
        if (comment is not null)
        {
            answer["comment"] = comment;
        }

        if (pickedUpAt is not null && TryTime(pickedUpAt, out var at))
        {
            // The host's JSON reader takes only the strict ISO 8601 form, so the lenient forms the option accepts are normalised.
            answer["pickedUpAt"] = at.ToString("O", CultureInfo.InvariantCulture);
        }

        using var host = new HostClient(server);
        try
        {
            var (code, body) = await host.SendAsync(HttpMethod.Post, $"/api/runs/{Uri.EscapeDataString(run)}/steps/{step}/complete", answer, cancellationToken);
            if (code != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {HostClient.Describe(body)}");
                return code is 400 or 404 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var name = body.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "";
            var actor = body.TryGetProperty("actor", out var a) && a.ValueKind == JsonValueKind.String && a.GetString() is { Length: > 0 } who ? who : by;
            Consoles.StandardOutput.MarkupLine($"step {step} '{Markup.Escape(name)}' {(reject ? "[red]rejected[/]" : "[green]completed[/]")} by {Markup.Escape(actor)}");
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    private static bool TryTime(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
}
