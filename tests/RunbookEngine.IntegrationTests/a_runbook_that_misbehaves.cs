using System.Text.Json;
using System.Text.RegularExpressions;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Runbooks that ignore their token, throw, write megabytes or allocate without bound, on a real host that executes
/// one run at a time: each run ends as it should, the next run gets the slot, and the host keeps serving.
/// </summary>
public sealed partial class a_runbook_that_misbehaves : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync(
        new Dictionary<string, string>
        {
            ["RunbookEngine__MaxConcurrentRuns"] = "1",
            ["RunbookEngine__Execution__ProcessMemoryLimitMiB"] = "256",
            ["RunbookEngine__ShutdownGrace"] = "00:00:01",
            ["RunbookEngine__Access__Tokens__alice"] = "alice-token-not-for-runbooks",
            ["runbookengine:alerts:sources:grafana:secret"] = "pager-secret-not-for-runbooks",
            ["RUNBOOK_SECRET_CURIOUS"] = "a secret runbooks may read",
            ["RunbookEngine__Catalog__Git__Password"] = "git-password-not-for-runbooks",
            ["RunbookEngine__Catalog__Git__WebhookSecret"] = "github-secret-not-for-runbooks",
            ["RunbookEngine__ConnectionString"] = "Host=db.invalid;Password=connection-string-not-for-runbooks",
            ["RunbookEngine__GitHub__Token"] = "github-token-not-for-runbooks",
            ["runbookengine__github__webhooksecret"] = "github-webhook-secret-not-for-runbooks",
        },
        HardeningRunbooks());

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    /// <summary>The runbooks under Hardening/, by name.</summary>
    internal static Dictionary<string, string> HardeningRunbooks() =>
        Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Hardening"), "*.csx")
            .ToDictionary(path => Path.GetFileNameWithoutExtension(path), File.ReadAllText);

    [Theory]
    [InlineData("spin")]
    [InlineData("block")]
    public async Task that_ignores_its_token_in_process_times_out_frees_its_slot_and_the_host_keeps_serving(string mode)
    {
        var runId = await Http.TriggerAsync("stuck", new { mode });
        await RunningAsync(runId);
        await AssertServingAsync();

        var run = await Http.EndedRunAsync(runId);

        Assert.Equal("TimedOut", run.Status());
        Assert.Contains("did not finish within its timeout of 8s", Error(run), StringComparison.Ordinal);
        Assert.Equal([("ignore the token", "TimedOut")], run.Steps().Select(s => (s.Name, s.Status)));
        await AssertTheNextRunSucceedsAsync();
    }

    [Theory]
    [InlineData("spin")]
    [InlineData("block")]
    public async Task that_ignores_its_token_in_a_process_of_its_own_is_killed_with_everything_it_started(string mode)
    {
        var runId = await Http.TriggerAsync("stuck-isolated", new { mode });
        await RunningAsync(runId);
        await AssertServingAsync();

        var run = await Http.TerminalRunAsync(runId);

        Assert.Equal("TimedOut", run.Status());
        Assert.Contains("did not finish within its timeout of 15s", Error(run), StringComparison.Ordinal);
        Assert.Equal([("ignore the token", "TimedOut")], run.Steps().Select(s => (s.Name, s.Status)));
        await GoneAsync(ProcessOf(runId));
        await GoneAsync(int.Parse(SleeperPattern().Match(_workspace.Host.Log).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
        await AssertTheNextRunSucceedsAsync();
    }

    [Fact]
    public async Task that_throws_fails_with_its_message()
    {
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("throws", new { }));

        Assert.Equal("Failed", run.Status());
        Assert.Contains("the disk is on fire", Error(run), StringComparison.Ordinal);
        var step = Assert.Single(run.GetProperty("steps").EnumerateArray());
        Assert.Equal("Failed", step.GetProperty("status").GetString());
        Assert.Contains("InvalidOperationException: the disk is on fire", step.GetProperty("error").GetString(), StringComparison.Ordinal);
        await AssertTheNextRunSucceedsAsync();
    }

    [Theory]
    [InlineData("log")]
    [InlineData("shell")]
    public async Task that_writes_megabytes_keeps_the_head_and_tail_and_does_not_flood_the_host_log(string via)
    {
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("chatty", new { via }));

        Assert.Equal("Succeeded", run.Status());
        var output = run.Steps().Single().Output;
        Assert.InRange(output.Length, 1, Sdk.StepOutcome.MaxOutputLength + 200);
        Assert.Contains("characters of output cut", output, StringComparison.Ordinal);
        Assert.StartsWith(via == "log" ? "xxxx" : "$ sh", output.TrimStart(), StringComparison.Ordinal);

        // 20 MB went through the runbook; the host log holds at most the run's budget (1 MiB) and the rest of its day.
        Assert.InRange(_workspace.Host.Log.Length, 1, 3 * 1024 * 1024);
        await AssertServingAsync();
        await AssertTheNextRunSucceedsAsync();
    }

    [Fact]
    public async Task that_allocates_without_bound_in_a_process_of_its_own_fails_and_the_host_lives()
    {
        var run = await Http.TerminalRunAsync(await Http.TriggerAsync("hog", new { }));

        Assert.Equal("Failed", run.Status());
        Assert.Matches("OutOfMemoryException|ran out of memory", Error(run));
        Assert.Contains("256 MiB", Error(run), StringComparison.Ordinal);
        Assert.Equal([("hoard", "Failed")], run.Steps().Select(s => (s.Name, s.Status)));
        await AssertServingAsync();
        await AssertTheNextRunSucceedsAsync();
    }

    [Fact]
    public async Task in_a_process_of_its_own_journals_its_steps_logs_under_its_run_and_rests_for_a_person()
    {
        var runId = await Http.TriggerAsync("isolated", new { });
        await Http.WaitingStepAsync(runId, 2);
        var firstProcess = ProcessOf(runId);
        var (answered, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "alice" });
        Assert.InRange(answered, 200, 299);

        var run = await Http.TerminalRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        var steps = run.Steps();
        Assert.Equal([("greet", "Succeeded"), ("Approve: Go on?", "Succeeded"), ("after", "Succeeded")], steps.Select(s => (s.Name, s.Status)));
        Assert.Contains("hello from a process of its own", steps[0].Output, StringComparison.Ordinal);
        Assert.Contains("from the shell", steps[0].Output, StringComparison.Ordinal);
        Assert.Contains($"first process {firstProcess}, now ", steps[2].Output, StringComparison.Ordinal);

        // The child's lines reach the host log under the run, console output included.
        var log = _workspace.Host.Log.Split('\n');
        Assert.Contains(log, line => line.Contains("hello from a process of its own", StringComparison.Ordinal) && line.Contains(runId, StringComparison.Ordinal));
        Assert.Contains(log, line => line.Contains("straight to the console", StringComparison.Ordinal) && line.Contains(runId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task in_a_process_of_its_own_that_is_cancelled_ends_cancelled_and_its_process_is_gone()
    {
        var runId = await Http.TriggerAsync("isolated", new { hold = true });
        await HoldingAsync(runId);
        var (cancelled, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel", new { by = "alice" });
        Assert.Equal(202, cancelled);

        var run = await Http.TerminalRunAsync(runId);

        Assert.Equal("Cancelled", run.Status());
        Assert.Equal([("greet", "Succeeded"), ("hold", "Cancelled")], run.Steps().Select(s => (s.Name, s.Status)));
        await GoneAsync(ProcessOf(runId));
        await AssertTheNextRunSucceedsAsync();
    }

    [Fact]
    public async Task in_a_process_of_its_own_is_interrupted_by_a_shutdown_and_resumes_from_its_journal()
    {
        var runId = await Http.TriggerAsync("isolated", new { hold = true });
        await HoldingAsync(runId);
        var child = ProcessOf(runId);

        await _workspace.RestartAsync();

        // The held step was cut short by the shutdown, so the resumed run (in a new process) asks a person about it.
        var run = await Http.UntilAsync($"/api/runs/{runId}", body => body.Status() == "WaitingForHuman" ? body : null, "the run never resumed");
        Assert.Equal([("greet", "Succeeded"), ("hold", "Interrupted")], run.Steps().Select(s => (s.Name, s.Status)));
        Assert.Contains("hold", Error(run), StringComparison.Ordinal);
        await GoneAsync(child);
    }

    [Fact]
    public async Task in_a_process_of_its_own_that_starts_processes_writing_to_its_standard_output_still_reports_its_end()
    {
        var runId = await Http.TriggerAsync("inheriting", new { });
        var run = await Http.TerminalRunAsync(runId);

        Assert.True(run.Status() == "Succeeded", run.ToString());
        var steps = run.Steps();
        Assert.Equal([("before", "Succeeded"), ("after", "Succeeded")], steps.Select(s => (s.Name, s.Status)));
        Assert.Contains("the chatty process exited with 0", steps[0].Output, StringComparison.Ordinal);
        Assert.Contains("mark visible: False", steps[1].Output, StringComparison.Ordinal);

        // What those processes wrote is a line of the run, not lost and not taken for its result.
        Assert.Contains(_workspace.Host.Log.Split('\n'), line => line.Contains("not a result", StringComparison.Ordinal) && line.Contains(runId, StringComparison.Ordinal));
        await AssertTheNextRunSucceedsAsync();
    }

    [Fact]
    public async Task in_a_process_of_its_own_does_not_see_the_hosts_credentials_but_sees_its_secrets()
    {
        var run = await Http.TerminalRunAsync(await Http.TriggerAsync("curious", new { }));

        Assert.True(run.Status() == "Succeeded", run.ToString());
        var output = run.Steps().Single().Output;
        Assert.Contains("token visible: False", output, StringComparison.Ordinal);
        Assert.Contains("secret visible: True", output, StringComparison.Ordinal);
        Assert.Contains("credentials seen: []", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("nosy")]
    [InlineData("nosy-isolated")]
    public async Task starts_commands_that_inherit_none_of_the_hosts_credentials(string runbook)
    {
        var run = await Http.TerminalRunAsync(await Http.TriggerAsync(runbook, new { }));

        Assert.True(run.Status() == "Succeeded", run.ToString());
        var output = run.Steps().Single().Output;
        Assert.Contains("PATH among them: True", output, StringComparison.Ordinal);
        Assert.Contains("RUNBOOK_SECRET_CURIOUS=", output, StringComparison.Ordinal);
        foreach (var credential in new[] { "alice-token-not-for-runbooks", "pager-secret-not-for-runbooks", "git-password-not-for-runbooks", "github-secret-not-for-runbooks", "connection-string-not-for-runbooks", "github-token-not-for-runbooks", "github-webhook-secret-not-for-runbooks" })
        {
            Assert.DoesNotContain(credential, output, StringComparison.Ordinal);
        }
    }

    private async Task HoldingAsync(string runId) =>
        await Http.UntilAsync(
            $"/api/runs/{runId}",
            run => run.Steps().Any(s => s is { Name: "hold", Status: "Running" }) ? run : null,
            "the run never reached its hold step");

    private async Task RunningAsync(string runId) =>
        await Http.UntilAsync($"/api/runs/{runId}", run => run.Status() == "Running" && run.Steps().Count == 1 ? run : null, "the run never started its step");

    /// <summary>The host answers its health check, its API and its dashboard.</summary>
    private async Task AssertServingAsync()
    {
        foreach (var path in new[] { "/healthz", "/api/runs", "/" })
        {
            using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}");
        }
    }

    /// <summary>With one run at a time, the next run only succeeds if the misbehaving one gave its slot back.</summary>
    private async Task AssertTheNextRunSucceedsAsync()
    {
        var next = await Http.EndedRunAsync(await Http.TriggerAsync("hello", new { who = "next" }));
        Assert.Equal("Succeeded", next.Status());
    }

    private int ProcessOf(string runId)
    {
        var match = Regex.Match(_workspace.Host.Log, $"Run \"?{runId}\"? executes in process (\\d+)");
        Assert.True(match.Success, $"the host never said which process runs {runId}:\n{_workspace.Host.Log}");
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Waits (up to a minute) until a process has exited; a zombie counts as exited.</summary>
    private static async Task GoneAsync(int pid)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (Alive(pid))
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), $"process {pid} is still alive");
            await tick.WaitForNextTickAsync();
        }
    }

    // The process can vanish between looking and reading: gone is gone. A zombie has ended too.
    private static bool Alive(int pid)
    {
        try
        {
            return !File.ReadAllText($"/proc/{pid}/stat").Split(") ")[^1].StartsWith('Z');
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string Error(JsonElement run) => run.GetProperty("run").GetProperty("error").GetString() ?? "";

    [GeneratedRegex(@"started sleeper (\d+)")]
    private static partial Regex SleeperPattern();
}
