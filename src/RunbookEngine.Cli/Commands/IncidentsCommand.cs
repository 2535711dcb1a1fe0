using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook incidents [--state open|closed] [--service S] [--since 7d] [--until T] [--limit N]</c>: incidents on a host.</summary>
internal static class IncidentsCommand
{
    public static Command Create()
    {
        var server = HostClient.ServerOption();
        var state = new Option<string?>("--state") { Description = "Only open or only closed incidents." };
        var service = new Option<string?>("--service") { Description = "Only incidents filed under this service." };
        var since = new Option<string?>("--since") { Description = "Only incidents opened since this time, date or duration back from now (7d)." };
        var until = new Option<string?>("--until") { Description = "Only incidents opened before this time, date or duration back from now." };
        var limit = new Option<int>("--limit", "-n") { Description = "How many incidents, newest first.", DefaultValueFactory = _ => 20 };
        var command = new Command("incidents", "List incidents on a RunbookEngine host: related alerts grouped, with their state.") { server, state, service, since, until, limit };
        command.SetAction((parse, token) => RunAsync(
            new Uri(parse.GetValue(server)!), parse.GetValue(state), parse.GetValue(service), parse.GetValue(since), parse.GetValue(until), parse.GetValue(limit), token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, string? state, string? service, string? since, string? until, int limit, CancellationToken cancellationToken)
    {
        var query = $"/api/incidents?limit={limit}" + Param("state", state) + Param("service", service) + Param("since", since) + Param("until", until);
        using var host = new HostClient(server);
        try
        {
            var (code, body) = await host.SendAsync(HttpMethod.Get, query, null, cancellationToken);
            if (code != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {HostClient.Describe(body)}");
                return code == 400 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var incidents = body.GetProperty("incidents").EnumerateArray().ToList();
            if (incidents.Count == 0)
            {
                Consoles.StandardOutput.WriteLine("no incidents.");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("Incident", "Title", "Service", "State", "Alerts", "Opened (UTC)", "Closed (UTC)");
            foreach (var incident in incidents)
            {
                table.AddRow(
                    Markup.Escape(incident.GetProperty("id").GetString()!),
                    Markup.Escape(incident.GetProperty("title").GetString()!),
                    Markup.Escape(incident.TryGetProperty("service", out var s) ? s.GetString() ?? "" : ""),
                    Markup.Escape(incident.GetProperty("state").GetString()!),
                    incident.GetProperty("alerts").GetInt32().ToString(CultureInfo.InvariantCulture),
                    Time(incident.GetProperty("openedAt")),
                    incident.TryGetProperty("closedAt", out var closed) ? Time(closed) : "");
            }

            Consoles.StandardOutput.Write(table);
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    private static string Param(string name, string? value) => value is null ? "" : $"&{name}={Uri.EscapeDataString(value)}";

    private static string Time(System.Text.Json.JsonElement value) =>
        value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";
}
