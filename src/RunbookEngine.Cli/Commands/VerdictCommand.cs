using System.CommandLine;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary>
/// <c>runbook verdict RUN right|wrong [--comment TEXT] [--by NAME] --server URL</c>: says whether what a shadow run
/// proposed would have been right, the record that earns a runbook confirm mode.
/// </summary>
internal static class VerdictCommand
{
    public static Command Create()
    {
        var run = new Argument<string>("RUN") { Description = "The id of a run that ended Proposed." };
        var verdict = new Argument<string>("VERDICT") { Description = "right (doing what it proposed would have been right) or wrong." };
        verdict.AcceptOnlyFromAmong("right", "wrong");
        var comment = new Option<string?>("--comment") { Description = "Why, kept with the verdict." };
        var by = new Option<string>("--by") { Description = "Who gives the verdict (a token's name wins).", DefaultValueFactory = _ => Environment.UserName };
        var server = HostClient.ServerOption();
        var command = new Command("verdict", "Say whether what a shadow run proposed would have been right or wrong.") { run, verdict, comment, by, server };
        command.SetAction((parse, token) => RunAsync(
            new Uri(parse.GetValue(server)!), parse.GetValue(run)!, parse.GetValue(verdict) == "right", parse.GetValue(comment), parse.GetValue(by)!, token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, string run, bool right, string? comment, string by, CancellationToken cancellationToken)
    {
        var body = new Dictionary<string, object> { ["right"] = right, ["by"] = by };
        if (comment is not null)
        {
            body["comment"] = comment;
        }

        using var host = new HostClient(server);
        try
        {
            var (code, answer) = await host.SendAsync(HttpMethod.Post, $"/api/runs/{Uri.EscapeDataString(run)}/verdict", body, cancellationToken);
            if (code != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {HostClient.Describe(answer)}");
                return code is 400 or 404 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var step = answer.TryGetProperty("proposal", out var proposal) && proposal.ValueKind == JsonValueKind.Object ? proposal.GetProperty("step").GetString() : null;
            var who = answer.TryGetProperty("verdict", out var given) && given.ValueKind == JsonValueKind.Object ? given.GetProperty("by").GetString() : by;
            Consoles.StandardOutput.MarkupLine(
                $"run {Markup.Escape(run)}: proposing '{Markup.Escape(step ?? "?")}' would have been {(right ? "[green]right[/]" : "[red]wrong[/]")}, says {Markup.Escape(who ?? by)}");
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
