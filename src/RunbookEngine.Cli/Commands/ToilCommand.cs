using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary>
/// <c>runbook toil [--since 7d] [--until TIME] [--group-by runbook|week|service|source] [--unautomated] [--csv] --server URL</c>:
/// the toil report of a host (time saved, time people still spend, time to remediate), or with --unautomated the alerts no
/// runbook handled, ranked by what they cost.
/// </summary>
internal static class ToilCommand
{
    private static readonly string[] Groupings = ["runbook", "week", "service", "source"];

    public static Command Create()
    {
        var since = new Option<string>("--since")
        {
            Description = "Start of the window: a duration back from now (7d, 24h) or an ISO 8601 time.",
            DefaultValueFactory = _ => "7d",
        };
        var until = new Option<string?>("--until") { Description = "End of the window: an ISO 8601 time, or a duration back from now; default now." };
        var groupBy = new Option<string>("--group-by", "-g")
        {
            Description = $"How to group runs: {string.Join(", ", Groupings)}.",
            DefaultValueFactory = _ => "runbook",
        };

        // Checked here rather than left to the host so a typo costs no request and the message can list the choices.
        groupBy.Validators.Add(result =>
        {
            var value = result.GetValueOrDefault<string>();
            if (!Groupings.Contains(value, StringComparer.OrdinalIgnoreCase))
            {
                result.AddError($"--group-by '{value}' is not one of {string.Join(", ", Groupings)}");
            }
        });
        var unautomated = new Option<bool>("--unautomated") { Description = "Rank the alerts no runbook handled instead: what to automate next." };
        var csv = new Option<bool>("--csv") { Description = "Write the host's CSV to stdout instead of a table." };
        var server = HostClient.ServerOption();
        var command = new Command("toil", "Show the toil report of a RunbookEngine host: time saved, time people still spend, time to remediate.")
        {
            since, until, groupBy, unautomated, csv, server,
        };
        command.SetAction((parse, token) => RunAsync(
            new Uri(parse.GetValue(server)!), parse.GetValue(since)!, parse.GetValue(until), parse.GetValue(groupBy)!.ToLowerInvariant(), parse.GetValue(unautomated),
            parse.GetValue(csv), token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, string since, string? until, string groupBy, bool unautomated, bool csv, CancellationToken cancellationToken)
    {
        var window = $"from={Uri.EscapeDataString(since)}" + (until is null ? "" : $"&to={Uri.EscapeDataString(until)}");
        var path = (unautomated ? $"/api/toil/unautomated?{window}" : $"/api/toil?{window}&groupBy={groupBy}") + (csv ? "&format=csv" : "");
        using var host = new HostClient(server);
        try
        {
            if (csv)
            {
                var (status, text) = await host.GetTextAsync(path, cancellationToken);
                if (status != 200)
                {
                    return await FailAsync(server, status, DescribeText(text));
                }

                await Console.Out.WriteAsync(text);
                return ExitCodes.Ok;
            }

            var (code, body) = await host.SendAsync(HttpMethod.Get, path, null, cancellationToken);
            if (code != 200)
            {
                return await FailAsync(server, code, HostClient.Describe(body));
            }

            var console = Consoles.StandardOutput;
            if (unautomated)
            {
                ShowUnautomated(console, body);
            }
            else
            {
                ShowReport(console, body, groupBy);
            }

            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    private static async Task<int> FailAsync(Uri server, int code, string message)
    {
        await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {message}");
        return code == 400 ? ExitCodes.Usage : ExitCodes.Failed;
    }

    private static void ShowReport(IAnsiConsole console, JsonElement report, string groupBy)
    {
        var groups = report.GetProperty("groups").EnumerateArray().ToList();
        if (groups.Count == 0)
        {
            console.MarkupLine($"no runs {Window(report)}.");
            return;
        }

        var grouping = report.TryGetProperty("groupBy", out var g) && g.GetString() is { Length: > 0 } by ? by : groupBy;
        console.MarkupLine($"[bold]toil[/] {Window(report)}, by {Markup.Escape(grouping)}");

        // Two-line headings keep the nine columns inside 80 terminal columns.
        var total = report.GetProperty("total");
        var table = new Table().AddColumns(
            Column(grouping, "total", left: true),
            Column("runs", Count(total, "runs")),
            Column("success", Percent(total, "successRate")),
            Column("saved\nmin", Minutes(total, "minutesSaved")),
            Column("human\nmin", Minutes(total, "humanMinutes")),
            Column("auto\nmin", Minutes(total, "automatedMinutes")),
            Column("alerts", Count(total, "alerts")),
            Column("MTTR\np50", Minutes(total, "medianMinutesToRemediate")),
            Column("MTTR\np90", Minutes(total, "p90MinutesToRemediate")));
        foreach (var group in groups)
        {
            table.AddRow(
                Markup.Escape(group.GetProperty("key").GetString() ?? ""),
                Count(group, "runs"),
                Percent(group, "successRate"),
                Minutes(group, "minutesSaved"),
                Minutes(group, "humanMinutes"),
                Minutes(group, "automatedMinutes"),
                Count(group, "alerts"),
                Minutes(group, "medianMinutesToRemediate"),
                Minutes(group, "p90MinutesToRemediate"));
        }

        console.Write(table);

        // Drills save nothing, so they are in no row above; their count and cost are shown apart.
        if (report.TryGetProperty("drills", out var drills) && drills.GetProperty("runs").GetInt32() > 0)
        {
            console.MarkupLine($"drills (not in the savings): {Count(drills, "runs")} runs, {Count(drills, "proposed")} proposed, {Count(drills, "failed")} failed, {Minutes(drills, "automatedMinutes")} automated min");
        }
    }

    private static void ShowUnautomated(IAnsiConsole console, JsonElement ranking)
    {
        var alerts = ranking.GetProperty("alerts").EnumerateArray().ToList();
        if (alerts.Count == 0)
        {
            console.MarkupLine($"every alert {Window(ranking)} matched a runbook: nothing left to automate.");
            return;
        }

        console.MarkupLine($"[bold]alerts no runbook handled[/] {Window(ranking)}");
        var table = new Table { Title = new TableTitle("what to automate next") }.AddColumns(
            Column("#", null),
            Column("alert", null, left: true),
            Column("sources", null, left: true),
            Column("count", null),
            Column("min\neach", null),
            Column("est.\nmin", null));
        foreach (var alert in alerts)
        {
            table.AddRow(
                Count(alert, "rank"),
                Markup.Escape(alert.GetProperty("alert").GetString() ?? ""),
                Markup.Escape(string.Join(", ", alert.GetProperty("sources").EnumerateArray().Select(s => s.GetString()))),
                Count(alert, "count"),
                Minutes(alert, "minutesEach"),
                Minutes(alert, "estimatedMinutes"));
        }

        console.Write(table);
    }

    /// <summary>A column of the table; with a footer, the footer is the bold total row.</summary>
    private static TableColumn Column(string header, string? footer, bool left = false)
    {
        var column = new TableColumn(Markup.Escape(header)) { Alignment = left ? Justify.Left : Justify.Right };
        if (footer is not null)
        {
            column.Footer = new Markup($"[bold]{footer}[/]");
        }

        return column;
    }

    private static string Window(JsonElement body) => $"from {Time(body, "from")} to {Time(body, "to")} UTC";

    private static string Time(JsonElement body, string property) =>
        body.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetDateTimeOffset().ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
            : "?";

    private static string Count(JsonElement row, string property) =>
        row.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64().ToString(CultureInfo.InvariantCulture) : "–";

    private static string Minutes(JsonElement row, string property) =>
        row.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.#", CultureInfo.InvariantCulture) : "–";

    private static string Percent(JsonElement row, string property) =>
        row.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0%", CultureInfo.InvariantCulture) : "–";

    /// <summary>The host's error from a body that was asked for as CSV: JSON when the host refused, else whatever came.</summary>
    private static string DescribeText(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return HostClient.Describe(document.RootElement);
        }
        catch (JsonException)
        {
            return text.Length == 0 ? "no details" : text.Trim();
        }
    }
}
