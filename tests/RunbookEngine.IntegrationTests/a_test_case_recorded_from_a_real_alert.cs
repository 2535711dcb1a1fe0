using System.Diagnostics;
using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A host runs an alert's run; <c>GET /api/alerts/{id}/test-case</c> and <c>runbook record</c> turn the alert and the
/// run into a test case whose stubs are what the run's request and command really returned, and <c>runbook test</c>
/// replays it without touching either.
/// </summary>
public sealed class a_test_case_recorded_from_a_real_alert : IAsyncLifetime
{
    private const string Probe = """
        // ---
        // description: asks a URL from the alert how it is, and says what it answered
        // alerts:
        //   - name: ProbeMe
        // parameters:
        //   url: { type: string, required: true, from: annotations.url }
        // ---
        var status = await Step("probe", async ct => (int)(await Http.GetAsync(Params.Get<string>("url"), ct)).StatusCode);
        var said = await Step("say it", async ct => (await Shell($"echo answered {status}", ct, check: true)).StdOut.Trim());
        if (said != $"answered {status}")
        {
            throw new RunbookFailedException($"echo said '{said}'");
        }
        """;

    // The same runbook in a process of its own, which keeps its calls itself.
    private static readonly string ProbeApart = Probe
        .Replace("//   - name: ProbeMe\n", "//   - name: ProbeMeApart\n", StringComparison.Ordinal)
        .Replace("// ---\nvar status", "// isolation: process\n// ---\nvar status", StringComparison.Ordinal);

    private HostWorkspace _workspace = null!;
    private string _copy = null!;

    public async Task InitializeAsync()
    {
        _workspace = await HostWorkspace.StartAsync(extraRunbooks: new Dictionary<string, string> { ["on-probe-me"] = Probe, ["on-probe-me-apart"] = ProbeApart });
        _copy = Directory.CreateTempSubdirectory("runbook-recorded-").FullName;
    }

    public async Task DisposeAsync()
    {
        await _workspace.DisposeAsync();
        Directory.Delete(_copy, recursive: true);
    }

    [Fact]
    public async Task replays_the_run_it_was_recorded_from_and_fails_once_the_runbook_changes()
    {
        var http = _workspace.Http;
        var url = new Uri(_workspace.Host.Address, "/healthz").ToString();
        var alertId = (await http.PostGenericAsync(new { name = "ProbeMe", fingerprint = "probe-1", annotations = new { url } })).Single();
        var alert = await http.SettledAlertAsync(alertId);
        Assert.Equal("Succeeded", (await http.EndedRunAsync(alert.Decisions().Single().RunId!)).Status());

        using var response = await http.GetAsync($"/api/alerts/{alertId}/test-case");
        var yaml = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {yaml}");
        Assert.Equal("application/yaml", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"\"{url}\"", yaml, StringComparison.Ordinal);
        Assert.Contains("echo answered 200", yaml, StringComparison.Ordinal);
        Assert.Contains("{\\\"status\\\":\\\"alive\\\"}", yaml, StringComparison.Ordinal);

        CopyRunbooks();
        var server = _workspace.Host.Address.ToString();
        var (recordExit, recorded) = await RunCliAsync("record", alertId, "--host", server, "--dir", _copy, "--name", "probed");
        var (again, refused) = await RunCliAsync("record", alertId, "--host", server, "--dir", _copy, "--name", "probed");
        var (testExit, tested) = await RunCliAsync("test", _copy, "--runbook", "on-probe-me");

        Assert.True(recordExit == 0, recorded);
        Assert.Equal(yaml, File.ReadAllText(Path.Combine(_copy, "tests", "on-probe-me", "probed.yaml")));
        Assert.True(again == 1, refused);
        Assert.Contains("exists; give another --name, or --force to overwrite it", refused, StringComparison.Ordinal);
        Assert.True(testExit == 0, tested);
        Assert.Contains("✓ on-probe-me/probed", tested, StringComparison.Ordinal);

        var runbook = Path.Combine(_copy, "on-probe-me.csx");
        File.WriteAllText(runbook, File.ReadAllText(runbook).Replace("\"say it\"", "\"say so\"", StringComparison.Ordinal));
        var (changedExit, changed) = await RunCliAsync("test", _copy, "--runbook", "on-probe-me");

        Assert.True(changedExit == 1, changed);
        Assert.Contains("step 2: expected 'say it', the run's step 2 is 'say so' (Succeeded)", changed, StringComparison.Ordinal);
    }

    [Fact]
    public async Task keeps_the_calls_of_a_run_in_a_process_of_its_own()
    {
        var http = _workspace.Http;
        var url = new Uri(_workspace.Host.Address, "/healthz").ToString();
        var alertId = (await http.PostGenericAsync(new { name = "ProbeMeApart", fingerprint = "apart-1", annotations = new { url } })).Single();
        var alert = await http.SettledAlertAsync(alertId);
        Assert.Equal("Succeeded", (await http.EndedRunAsync(alert.Decisions().Single().RunId!)).Status());

        CopyRunbooks();
        var (recordExit, recorded) = await RunCliAsync("record", alertId, "--server", _workspace.Host.Address.ToString(), "--dir", _copy);
        var (testExit, tested) = await RunCliAsync("test", _copy, "--runbook", "on-probe-me-apart");

        Assert.True(recordExit == 0, recorded);
        var yaml = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(_copy, "tests", "on-probe-me-apart"))));
        Assert.Contains("echo answered 200", yaml, StringComparison.Ordinal);
        Assert.Contains($"\"{url}\"", yaml, StringComparison.Ordinal);
        Assert.True(testExit == 0, tested);
        Assert.Contains("✓ on-probe-me-apart/recorded-", tested, StringComparison.Ordinal);
    }

    [Fact]
    public async Task is_refused_with_a_reason_for_an_unknown_alert_or_one_that_started_nothing()
    {
        var http = _workspace.Http;
        var unautomated = (await http.PostGenericAsync(new { name = "NobodyHandlesThis", fingerprint = "nothing-1" })).Single();
        await http.SettledAlertAsync(unautomated);

        var (unknownStatus, unknown) = await http.SendAsync(HttpMethod.Get, "/api/alerts/no-such-alert/test-case");
        var (nothingStatus, nothing) = await http.SendAsync(HttpMethod.Get, $"/api/alerts/{unautomated}/test-case");
        var (cliExit, cli) = await RunCliAsync("record", unautomated, "--host", _workspace.Host.Address.ToString(), "--dir", _copy);

        Assert.Equal(404, unknownStatus);
        Assert.Equal("no alert 'no-such-alert'", unknown.GetProperty("error").GetString());
        Assert.Equal(404, nothingStatus);
        Assert.StartsWith($"alert '{unautomated}' started no run (it was Unautomated", nothing.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, cliExit);
        Assert.Contains("started no run", cli, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_copy, "tests")));
    }

    private void CopyRunbooks()
    {
        var from = Path.Combine(_workspace.Root, "runbooks");
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_copy, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private async Task<(int Exit, string Output)> RunCliAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "runbook.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        start.Environment["RUNBOOKENGINE_CACHE"] = Path.Combine(_workspace.Root, "cli-cache");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }
        finally
        {
            // Whatever ended the wait (a timeout, the test's cancellation), no CLI outlives the test.
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
