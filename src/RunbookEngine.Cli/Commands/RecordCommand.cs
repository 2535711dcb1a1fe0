using System.CommandLine;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Scripting;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Cli.Commands;

/// <summary>
/// <c>runbook record ALERT_ID</c>: asks a host for a test case recorded from a real alert and the run it started, and
/// writes it to <c>DIR/tests/RUNBOOK/CASE.yaml</c>.
/// </summary>
internal static class RecordCommand
{
    public static Command Create()
    {
        var alert = new Argument<string>("ALERT_ID") { Description = "The alert whose run becomes the case (its id in the API, the dashboard or runbook runs)." };
        var server = HostClient.ServerOption();
        server.Aliases.Add("--host");
        var runbook = new Option<string?>("--runbook", "-r") { Description = "The runbook whose run to record, when the alert started several." };
        var name = new Option<string?>("--name", "-n") { Description = "The case's name (its file name without .yaml); default recorded-<end of the alert id>." };
        var dir = CommonOptions.Dir();
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite a case of the same name." };
        var command = new Command("record", "Write a test case from a real alert and the run it started: its commands and HTTP calls become the stubs, its steps and status the expectation.")
        {
            alert, server, runbook, name, dir, force,
        };
        command.SetAction((parse, token) => RunAsync(
            parse.GetValue(alert)!, new Uri(parse.GetValue(server)!), parse.GetValue(runbook), parse.GetValue(name), parse.GetValue(dir)!, parse.GetValue(force), token));
        return command;
    }

    private static async Task<int> RunAsync(string alertId, Uri server, string? runbook, string? name, string dir, bool force, CancellationToken cancellationToken)
    {
        name ??= $"recorded-{(alertId.Length > 8 ? alertId[^8..] : alertId)}";
        if (!RunbookFolder.IsValidName(name))
        {
            await Console.Error.WriteLineAsync($"runbook: --name '{name}' is not a valid case name: use letters, digits, '-', '_' and '.'");
            return ExitCodes.Usage;
        }

        if (runbook is not null && !RunbookFolder.IsValidName(runbook))
        {
            await Console.Error.WriteLineAsync($"runbook: --runbook '{runbook}' is not a valid runbook name: use letters, digits, '-', '_' and '.'");
            return ExitCodes.Usage;
        }

        using var host = new HostClient(server);
        try
        {
            // The case goes in the folder of the runbook that ran, so ask which one when the caller did not say.
            if (runbook is null)
            {
                var (status, body) = await host.SendAsync(HttpMethod.Get, $"/api/alerts/{Uri.EscapeDataString(alertId)}", null, cancellationToken);
                if (status != 200)
                {
                    await Console.Error.WriteLineAsync($"runbook: {server} has no alert '{alertId}' ({status}): {HostClient.Describe(body)}");
                    return status == 404 ? ExitCodes.Failed : ExitCodes.Usage;
                }

                var started = body.GetProperty("runs").EnumerateArray().Select(run => run.GetProperty("runbook").GetString()!).Distinct(StringComparer.Ordinal).ToList();
                if (started.Count > 1)
                {
                    await Console.Error.WriteLineAsync($"runbook: alert '{alertId}' started runs of {string.Join(", ", started)}; say which with --runbook NAME");
                    return ExitCodes.Usage;
                }

                runbook = started.FirstOrDefault();

                // The name becomes a folder under tests/: a host (or whatever answers at --server) must not pick where the case is written.
                if (runbook is not null && !RunbookFolder.IsValidName(runbook))
                {
                    await Console.Error.WriteLineAsync($"runbook: {server} says alert '{alertId}' started a run of '{runbook}', which is not a valid runbook name; nothing was written");
                    return ExitCodes.Usage;
                }
            }

            var query = runbook is null ? "" : $"?runbook={Uri.EscapeDataString(runbook)}";
            var (caseStatus, text) = await host.GetTextAsync($"/api/alerts/{Uri.EscapeDataString(alertId)}/test-case{query}", cancellationToken);
            if (caseStatus != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} cannot record a case from alert '{alertId}' ({caseStatus}): {Describe(text)}");
                return caseStatus == 400 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var path = Path.Combine(Path.GetFullPath(dir), TestCaseRunner.TestsFolder, runbook!, name + ".yaml");
            if (File.Exists(path) && !force)
            {
                await Console.Error.WriteLineAsync($"runbook: {RunbookDiagnostic.DisplayPath(path)} exists; give another --name, or --force to overwrite it");
                return ExitCodes.Failed;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, text, cancellationToken);
            Console.WriteLine($"wrote {RunbookDiagnostic.DisplayPath(path)}; run it with: runbook test {dir} --runbook {runbook}");
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    private static string Describe(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return HostClient.Describe(document.RootElement.Clone());
        }
        catch (JsonException)
        {
            return text.Length > 300 ? text[..300] + "…" : text;
        }
    }
}
