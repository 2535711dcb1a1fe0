using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary>
/// <c>runbook gameday NAME [--server URL] [--json]</c>: starts a game day on a host, shows it phase by phase until it
/// ends, then its three times; exits 0 only if it succeeded.
/// </summary>
internal static class GameDayCommand
{
    // How often the game day is read while it runs: its phases last seconds to minutes.
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The runbook whose gameday: block to run." };
        var json = new Option<bool>("--json") { Description = "Print the game day as JSON on standard output once it ends; progress goes to standard error." };
        var server = HostClient.ServerOption();
        // --host reads naturally here ("the host runs the game day"); --server is what the other commands take.
        server.Aliases.Add("--host");
        var command = new Command("gameday", "Run a runbook's game day on a host: break it, wait for the alert and the fix, verify, restore; and measure.") { name, json, server };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(name)!, parse.GetValue(json), new Uri(parse.GetValue(server)!), token));
        return command;
    }

    private static async Task<int> RunAsync(string name, bool json, Uri server, CancellationToken cancellationToken)
    {
        var console = json ? Consoles.StandardError : Consoles.StandardOutput;
        using var host = new HostClient(server);
        try
        {
            var (status, body) = await host.SendAsync(HttpMethod.Post, $"/api/runbooks/{Uri.EscapeDataString(name)}/gamedays", new { by = Environment.UserName }, cancellationToken);
            if (status != 202)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} refused the game day ({status}): {HostClient.Describe(body)}");
                return status is 400 or 404 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var id = body.GetProperty("id").GetString()!;
            console.MarkupLine($"game day [bold]{Markup.Escape(id)}[/] of {Markup.Escape(name)} started on {Markup.Escape(server.ToString())}");
            var shown = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                Show(console, body, shown);
                if (body.GetProperty("status").GetString() != "Running")
                {
                    break;
                }

                await Task.Delay(Poll, cancellationToken);
                (status, body) = await host.SendAsync(HttpMethod.Get, $"/api/gamedays/{Uri.EscapeDataString(id)}", null, cancellationToken);
                if (status != 200)
                {
                    await Console.Error.WriteLineAsync($"runbook: {server} answered {status} for game day {id}: {HostClient.Describe(body)}");
                    return ExitCodes.Failed;
                }
            }

            var succeeded = body.GetProperty("status").GetString() == "Succeeded";
            console.MarkupLine(succeeded ? "[green]Succeeded[/]" : $"[red]Failed[/]: {Markup.Escape(Text(body, "error") ?? "")}");
            var table = new Table().AddColumns("time to detect", "time to remediate", "time to recover");
            table.AddRow(Seconds(body, "timeToDetectSeconds"), Seconds(body, "timeToRemediateSeconds"), Seconds(body, "timeToRecoverSeconds"));
            console.Write(table);
            if (json)
            {
                await Console.Out.WriteLineAsync(body.GetRawText());
            }

            return succeeded ? ExitCodes.Ok : ExitCodes.Failed;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>Prints each milestone the game day has reached and not yet been shown.</summary>
    private static void Show(IAnsiConsole console, JsonElement gameDay, HashSet<string> shown)
    {
        // The line is built only once reached: before then, the times it shows are not there.
        void Once(string key, bool reached, Func<string> line)
        {
            if (reached && shown.Add(key))
            {
                console.MarkupLine("  " + line());
            }
        }

        var phase = Text(gameDay, "phase");
        Once("injected", Has(gameDay, "injectedAt"), () => $"[green]✓[/] injecting at {Markup.Escape(At(gameDay, "injectedAt"))}");
        Once("waiting", phase == "WaitingForAlert", () => "[grey]… waiting for the alert to come through the monitoring[/]");
        Once("alert", Has(gameDay, "alertAt"), () => $"[green]✓[/] alert {Markup.Escape(Text(gameDay, "alertId") ?? "")} received: detected in {Seconds(gameDay, "timeToDetectSeconds")}, run {Markup.Escape(Text(gameDay, "runId") ?? "")} started");
        Once("remediated", Has(gameDay, "remediatedAt"), () => $"[green]✓[/] run succeeded: remediated in {Seconds(gameDay, "timeToRemediateSeconds")}");
        Once("verifying", phase == "Verifying", () => "[grey]… verifying the fault is gone[/]");
        Once("verified", Has(gameDay, "verifiedAt"), () => $"[green]✓[/] verify passed: recovered in {Seconds(gameDay, "timeToRecoverSeconds")}");
        Once("restoring", phase == "Restoring", () => "[grey]… restoring[/]");
        Once("restored", Has(gameDay, "restoredAt"), () => "[green]✓[/] restored");
    }

    private static bool Has(JsonElement e, string property) => e.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null;

    private static string? Text(JsonElement e, string property) => e.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static string At(JsonElement e, string property) =>
        e.GetProperty(property).GetDateTimeOffset().UtcDateTime.ToString("HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    private static string Seconds(JsonElement e, string property) =>
        e.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble().ToString("0.0", CultureInfo.InvariantCulture) + " s"
            : "–";
}
