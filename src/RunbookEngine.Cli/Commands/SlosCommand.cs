using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook slos [--server URL]</c>: each SLO's error budget as the host last read it from Prometheus.</summary>
internal static class SlosCommand
{
    public static Command Create()
    {
        var server = HostClient.ServerOption();
        var command = new Command("slos", "List the SLOs a RunbookEngine host evaluates: objective, SLI, error budget left, burn rate and state (unknown when Prometheus could not say).") { server };
        command.SetAction((parse, token) => RunAsync(new Uri(parse.GetValue(server)!), token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, CancellationToken cancellationToken)
    {
        using var host = new HostClient(server);
        try
        {
            var (code, body) = await host.SendAsync(HttpMethod.Get, "/api/slos", null, cancellationToken);
            if (code != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {HostClient.Describe(body)}");
                return ExitCodes.Failed;
            }

            var slos = body.GetProperty("slos");
            if (slos.GetArrayLength() == 0)
            {
                Consoles.StandardOutput.WriteLine("no SLOs are configured on this host (RunbookEngine:Slos)");
                return ExitCodes.Ok;
            }

            var table = new Table().AddColumns("SLO", "Objective", "Window", "SLI", "Budget left", "Burn rate", "State");
            var unknown = new List<string>();
            foreach (var slo in slos.EnumerateArray())
            {
                string Number(string property, string suffix) =>
                    slo.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble().ToString("0.###", CultureInfo.InvariantCulture) + suffix : "–";
                var state = slo.GetProperty("state").GetString()!;
                var colour = state switch { "ok" => "green", "low" => "yellow", _ => "red" };
                table.AddRow(
                    Markup.Escape(slo.GetProperty("name").GetString()!),
                    Number("objective", "%"),
                    Markup.Escape(slo.GetProperty("window").GetString()!),
                    Number("sli", "%"),
                    Number("budgetRemainingPercent", "%"),
                    Number("burnRate", "×"),
                    $"[{colour}]{Markup.Escape(state)}[/]");
                if (slo.TryGetProperty("error", out var error) && error.GetString() is { } why)
                {
                    unknown.Add($"{slo.GetProperty("name").GetString()} is unknown: {why}");
                }
            }

            // Below the table, whole: a reason in a column would be wrapped into pieces nobody can read or search.
            Consoles.StandardOutput.Write(table);
            foreach (var line in unknown)
            {
                Consoles.StandardOutput.WriteLine(line, Style.Plain);
            }

            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
