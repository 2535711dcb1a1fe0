using System.CommandLine;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook runs [--server URL] [--runbook NAME] [--status S] [--limit N]</c>: recent runs on a host.</summary>
internal static class RunsCommand
{
    public static Command Create()
    {
        var server = HostClient.ServerOption();
        var runbook = new Option<string?>("--runbook", "-r") { Description = "Only this runbook's runs." };
        var status = new Option<string?>("--status") { Description = "Only runs in this status (Queued, Running, Succeeded, Failed, ...)." };
        var limit = new Option<int>("--limit", "-n") { Description = "How many runs, newest first.", DefaultValueFactory = _ => 20 };
        var command = new Command("runs", "List recent runs on a RunbookEngine host.") { server, runbook, status, limit };
        command.SetAction((parse, token) => RunAsync(new Uri(parse.GetValue(server)!), parse.GetValue(runbook), parse.GetValue(status), parse.GetValue(limit), token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, string? runbook, string? status, int limit, CancellationToken cancellationToken)
    {
        var query = $"/api/runs?limit={limit}" + (runbook is null ? "" : $"&runbook={Uri.EscapeDataString(runbook)}") + (status is null ? "" : $"&status={Uri.EscapeDataString(status)}");
        using var host = new HostClient(server);
        try
        {
            var (code, body) = await host.SendAsync(HttpMethod.Get, query, null, cancellationToken);
            if (code != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {HostClient.Describe(body)}");
                return code == 400 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var table = new Table().AddColumns("Run", "Runbook", "Status", "Trigger", "Queued (UTC)", "Error or proposal");
            foreach (var run in body.GetProperty("runs").EnumerateArray())
            {
                table.AddRow(
                    Markup.Escape(run.GetProperty("id").GetString()!),
                    Markup.Escape(run.GetProperty("runbook").GetString()!),
                    Markup.Escape(run.GetProperty("status").GetString()!),
                    Markup.Escape(run.GetProperty("trigger").GetString()!),
                    Markup.Escape(run.GetProperty("queuedAt").GetDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture)),
                    Markup.Escape(run.TryGetProperty("error", out var error) ? error.GetString() ?? "" : Proposal(run)));
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

    /// <summary>What a shadow run would have done, and the verdict on it, for the last column; empty for other runs.</summary>
    internal static string Proposal(JsonElement run)
    {
        if (!run.TryGetProperty("proposal", out var proposal) || proposal.ValueKind != JsonValueKind.Object)
        {
            return "";
        }

        var step = proposal.GetProperty("step").GetString();
        var detail = proposal.TryGetProperty("detail", out var d) && d.GetString() is { Length: > 0 } text && text != step ? $" ({text})" : "";
        var verdict = run.TryGetProperty("verdict", out var v) && v.ValueKind == JsonValueKind.Object
            ? $"; judged {(v.GetProperty("right").GetBoolean() ? "right" : "wrong")} by {v.GetProperty("by").GetString()}"
            : "; no verdict yet (runbook verdict RUN right|wrong)";
        return $"would {proposal.GetProperty("action").GetString()} '{step}'{detail}{verdict}";
    }
}
