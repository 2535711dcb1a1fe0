using System.CommandLine;
using System.Net.Http;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook postmortem INCIDENT_ID [--format markdown|json]</c>: prints an incident's blameless postmortem draft.</summary>
internal static class PostmortemCommand
{
    public static Command Create()
    {
        var incident = new Argument<string>("INCIDENT_ID") { Description = "The incident (its id in the API, the dashboard or runbook incidents)." };
        var server = HostClient.ServerOption();
        var format = new Option<string>("--format") { Description = "markdown (the default) or json.", DefaultValueFactory = _ => "markdown" };
        format.AcceptOnlyFromAmong("markdown", "json");
        var command = new Command("postmortem", "Print an incident's blameless postmortem draft: summary, impact, timeline, what the automation did, what needed people, follow-ups.")
        {
            incident, server, format,
        };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(incident)!, new Uri(parse.GetValue(server)!), parse.GetValue(format)!, token));
        return command;
    }

    private static async Task<int> RunAsync(string incident, Uri server, string format, CancellationToken cancellationToken)
    {
        var path = $"/api/incidents/{Uri.EscapeDataString(incident)}/postmortem{(format == "json" ? "" : ".md")}";
        using var host = new HostClient(server);
        try
        {
            var (code, text) = await host.GetTextAsync(path, cancellationToken);
            if (code != 200)
            {
                var error = text.Length > 0 && text[0] == '{' ? HostClient.Describe(System.Text.Json.JsonDocument.Parse(text).RootElement) : text;
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {RunbookEngine.Incidents.MarkdownText.StripControl(error)}");
                return code is 400 or 404 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            // The draft quotes alert labels and people's comments: a terminal must not obey an escape sequence in one.
            await Console.Out.WriteAsync(RunbookEngine.Incidents.MarkdownText.StripControl(text));
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
