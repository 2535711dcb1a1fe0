using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Game days on one host on SQLite, with the alert sent by the test (the monitoring path is what
/// <see cref="a_game_day_with_real_monitoring"/> covers): what is measured, and every way one is refused or fails.
/// </summary>
public sealed class game_days_on_a_host(game_days_on_a_host.HostFixture fixture) : IClassFixture<game_days_on_a_host.HostFixture>
{
    private HttpClient Http => fixture.Workspace.Http;

    private string Root => fixture.Workspace.Root;

    [Fact]
    public async Task measures_the_alert_sent_after_the_injection_and_the_run_it_started_then_restores()
    {
        var started = await StartAsync("gd-fixed");
        var id = started.GetProperty("id").GetString()!;
        Assert.Equal(("Running", "test"), (started.GetProperty("status").GetString(), started.GetProperty("startedBy").GetString()));
        await PhaseAsync(id, "WaitingForAlert");

        Assert.True(File.Exists(Path.Combine(Root, "gd-fixed.fault")), "inject did not run in the host's working directory");
        var alertId = (await Http.PostGenericAsync(new { name = "GameDayFault", fingerprint = "gd-fixed-1" })).Single();
        var gameDay = await EndedAsync(id);

        Assert.True(gameDay.GetProperty("status").GetString() == "Succeeded", gameDay.ToString());
        Assert.Equal("Done", gameDay.GetProperty("phase").GetString());
        Assert.Equal(alertId, gameDay.GetProperty("alertId").GetString());
        var run = await Http.EndedRunAsync(gameDay.GetProperty("runId").GetString()!);
        Assert.Equal(("Succeeded", alertId), (run.Status(), run.GetProperty("run").GetProperty("alertId").GetString()));
        var (detect, remediate, recover) = Times(gameDay);
        Assert.True(detect > 0 && remediate > 0 && recover > 0, gameDay.ToString());
        Assert.True(recover >= detect + remediate, gameDay.ToString());
        Assert.Equal(
            gameDay.GetProperty("remediatedAt").GetDateTimeOffset(),
            run.GetProperty("run").GetProperty("finishedAt").GetDateTimeOffset());
        Assert.False(File.Exists(Path.Combine(Root, "gd-fixed.fault")));
        Assert.True(File.Exists(Path.Combine(Root, "gd-fixed.restored")), "restore did not run");
        Assert.True(gameDay.TryGetProperty("restoredAt", out _), gameDay.ToString());
        Assert.Contains("$ inject: touch gd-fixed.fault", gameDay.GetProperty("log").GetString(), StringComparison.Ordinal);

        var (status, history) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/gd-fixed/gamedays");
        Assert.Equal(200, status);
        var newest = history.GetProperty("gameDays").EnumerateArray().First();
        Assert.Equal(id, newest.GetProperty("id").GetString());
        Assert.Equal(detect, newest.GetProperty("timeToDetectSeconds").GetDouble());

        var page = await Http.GetStringAsync(new Uri("/runbooks/gd-fixed", UriKind.Relative));
        Assert.Contains($"<tr data-gameday=\"{id}\">", page, StringComparison.Ordinal);
        Assert.Contains("Start one with <code>runbook gameday gd-fixed</code>", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task with_no_alert_fails_after_its_timeout_naming_the_phase_and_the_alert_and_still_restores()
    {
        var first = await StartAsync("gd-unheard");
        var id = first.GetProperty("id").GetString()!;

        var (secondStatus, second) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/gd-unheard/gamedays", new { by = "test" });
        var gameDay = await EndedAsync(id);
        var again = await StartAsync("gd-unheard");

        Assert.Equal(409, secondStatus);
        Assert.StartsWith($"game day {id} of 'gd-unheard' (started by test) is still ", Error(second), StringComparison.Ordinal);
        Assert.EndsWith("; one at a time per runbook", Error(second), StringComparison.Ordinal);
        Assert.Equal(("Failed", "WaitingForAlert"), (gameDay.GetProperty("status").GetString(), gameDay.GetProperty("phase").GetString()));
        Assert.Equal("no alert arrived within 3s of the injection: is the monitoring path routing GameDayUnheard to this host?", gameDay.GetProperty("error").GetString());
        Assert.True(gameDay.TryGetProperty("restoredAt", out _), gameDay.ToString());
        Assert.False(gameDay.TryGetProperty("alertAt", out _), gameDay.ToString());
        Assert.False(gameDay.TryGetProperty("timeToDetectSeconds", out _), gameDay.ToString());
        Assert.NotEqual(id, again.GetProperty("id").GetString());
        await EndedAsync(again.GetProperty("id").GetString()!);
    }

    [Fact]
    public async Task whose_inject_fails_fails_with_its_exit_code_and_output_and_still_restores()
    {
        var gameDay = await EndedAsync((await StartAsync("gd-inject-fails")).GetProperty("id").GetString()!);

        Assert.Equal(("Failed", "Injecting"), (gameDay.GetProperty("status").GetString(), gameDay.GetProperty("phase").GetString()));
        Assert.Equal("inject `bash -c 'echo cannot break it >&2; exit 3'` exited 3: cannot break it", gameDay.GetProperty("error").GetString());
        Assert.True(File.Exists(Path.Combine(Root, "gd-inject-fails.restored")), "restore did not run");
        Assert.Contains("restore exited 0", gameDay.GetProperty("log").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task whose_alert_is_held_by_a_guard_says_so_when_it_times_out()
    {
        // The first alert's run starts the cooldown of its fingerprint; the game day's alert, the same one again, then
        // starts nothing. Cooled down by fingerprint, the runbook cannot be refused at the start: the alert to come is unknown.
        var firstAlert = (await Http.PostGenericAsync(new { name = "GameDayCooling", fingerprint = "gd-cooling-1" })).Single();
        await Http.EndedRunAsync((await Http.SettledAlertAsync(firstAlert)).Decisions().Single().RunId!);
        var id = (await StartAsync("gd-cooling")).GetProperty("id").GetString()!;
        await PhaseAsync(id, "WaitingForAlert");

        var held = (await Http.PostGenericAsync(new { name = "GameDayCooling", fingerprint = "gd-cooling-1" })).Single();
        var gameDay = await EndedAsync(id);

        Assert.Equal(("Failed", "WaitingForAlert"), (gameDay.GetProperty("status").GetString(), gameDay.GetProperty("phase").GetString()));
        var error = gameDay.GetProperty("error").GetString()!;
        Assert.StartsWith("no alert arrived within 3s of the injection: is the monitoring path routing GameDayCooling to this host? (1 matching alert did arrive but started no run: GameDayCooling at ", error, StringComparison.Ordinal);
        Assert.Contains(": Cooldown, ", error, StringComparison.Ordinal);
        Assert.Contains($"alert GameDayCooling ({held})", gameDay.GetProperty("log").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task of_a_runbook_in_shadow_mode_is_refused_before_anything_is_injected()
    {
        var (status, body) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/gd-shadow/gamedays");

        Assert.Equal(422, status);
        Assert.StartsWith("runbook 'gd-shadow' is in `mode: shadow`: the alert's run would only propose its steps", Error(body), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Root, "gd-shadow.fault")), "the fault was injected");
    }

    [Fact]
    public async Task of_a_runbook_cooling_down_for_its_one_target_is_refused_naming_the_run()
    {
        var alert = (await Http.PostGenericAsync(new { name = "GameDayCoolingKey", fingerprint = "gd-cooling-key-0" })).Single();
        var runId = (await Http.SettledAlertAsync(alert)).Decisions().Single().RunId!;
        await Http.EndedRunAsync(runId);

        var (status, body) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/gd-cooling-key/gamedays");

        Assert.Equal(422, status);
        Assert.StartsWith($"runbook 'gd-cooling-key' is cooling down for its concurrency key gd-cooling-key:gd-cooling-key after run {runId} (cooldown 1h)", Error(body), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(Root, "gd-cooling-key.fault")), "the fault was injected");
    }

    [Theory]
    [InlineData("POST", "/api/runbooks/hello/gamedays", 400, "runbook 'hello' has no `gameday:` block in its front matter: add one with `inject:` (a command that breaks what it fixes) and `verify:` (a command that exits 0 once the fault is gone)")]
    [InlineData("POST", "/api/runbooks/gd-no-alerts/gamedays", 400, "runbook 'gd-no-alerts' has no `alerts:` rule, so no alert can start it; a game day measures the way from a fault through an alert to the fix")]
    [InlineData("POST", "/api/runbooks/nope/gamedays", 404, "no runbook 'nope'")]
    [InlineData("GET", "/api/runbooks/nope/gamedays", 404, "no runbook 'nope'")]
    [InlineData("GET", "/api/runbooks/hello/gamedays?limit=0", 400, "limit must be between 1 and 500")]
    [InlineData("GET", "/api/gamedays/nope", 404, "no game day 'nope'")]
    public async Task bad_requests_get_clear_errors(string method, string path, int expectedStatus, string expectedError)
    {
        var (status, body) = await Http.SendAsync(new HttpMethod(method), path);

        Assert.Equal((expectedStatus, expectedError), (status, Error(body)));
    }

    [Fact]
    public async Task a_body_that_is_not_an_object_is_refused()
    {
        using var content = new StringContent("[1]", System.Text.Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync("/api/runbooks/gd-fixed/gamedays", content);

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains("the body must be a JSON object", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_runbook_with_no_game_days_has_an_empty_history()
    {
        var (status, body) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/hello/gamedays");

        Assert.Equal(200, status);
        Assert.Equal(0, body.GetProperty("gameDays").GetArrayLength());
    }

    [Fact]
    public async Task one_left_running_by_a_host_that_was_killed_is_failed_as_the_host_starts_again()
    {
        await using var workspace = await HostWorkspace.StartAsync(extraRunbooks: Runbooks);
        var (_, started) = await workspace.Http.SendAsync(HttpMethod.Post, "/api/runbooks/gd-waits-long/gamedays", new { by = "test" });
        var id = started.GetProperty("id").GetString()!;
        await workspace.Http.UntilAsync($"/api/gamedays/{id}", g => g.GetProperty("phase").GetString() == "WaitingForAlert" ? g : null, "the game day never waited for its alert");

        workspace.Host.Kill();
        await using var again = await HostProcess.StartAsync(workspace.Root, new Dictionary<string, string> { ["RUNBOOKENGINE_CACHE"] = Path.Combine(workspace.Root, "cache") });
        using var http = new HttpClient { BaseAddress = again.Address };
        var (status, gameDay) = await http.SendAsync(HttpMethod.Get, $"/api/gamedays/{id}");

        Assert.Equal(200, status);
        Assert.Equal(("Failed", "WaitingForAlert"), (gameDay.GetProperty("status").GetString(), gameDay.GetProperty("phase").GetString()));
        Assert.Matches(
            "^the node running it \\(.+\\) stopped while it was waiting for the alert; restore did not run: run `touch gd-waits-long.restored` by hand if the fault is still there$",
            gameDay.GetProperty("error").GetString());
        Assert.True(gameDay.TryGetProperty("finishedAt", out _), gameDay.ToString());
        Assert.Equal(202, (await http.SendAsync(HttpMethod.Post, "/api/runbooks/gd-waits-long/gamedays", new { by = "test" })).Status);
    }

    [Fact]
    public async Task one_running_when_its_host_is_told_to_stop_ends_failed_after_its_restore()
    {
        await using var workspace = await HostWorkspace.StartAsync(extraRunbooks: Runbooks);
        var (_, started) = await workspace.Http.SendAsync(HttpMethod.Post, "/api/runbooks/gd-waits-long/gamedays", new { by = "test" });
        var id = started.GetProperty("id").GetString()!;
        await workspace.Http.UntilAsync($"/api/gamedays/{id}", g => g.GetProperty("phase").GetString() == "WaitingForAlert" ? g : null, "the game day never waited for its alert");

        await workspace.RestartAsync();
        var (_, gameDay) = await workspace.Http.SendAsync(HttpMethod.Get, $"/api/gamedays/{id}");

        Assert.Equal(("Failed", "WaitingForAlert"), (gameDay.GetProperty("status").GetString(), gameDay.GetProperty("phase").GetString()));
        Assert.Equal("the host stopped while the game day was waiting for the alert", gameDay.GetProperty("error").GetString());
        Assert.True(gameDay.TryGetProperty("restoredAt", out _), gameDay.ToString());
        Assert.True(File.Exists(Path.Combine(workspace.Root, "gd-waits-long.restored")), "restore did not run");
    }

    [Fact]
    public async Task runbook_gameday_follows_one_on_the_host_and_exits_zero_with_its_three_times()
    {
        var cli = RunCliAsync("gameday", "gd-cli", "--server", fixture.Workspace.Host.Address.ToString());
        await Http.UntilAsync(
            "/api/runbooks/gd-cli/gamedays",
            h => h.GetProperty("gameDays").EnumerateArray().Any(g => g.GetProperty("phase").GetString() == "WaitingForAlert") ? h : null,
            "the CLI's game day never waited for its alert");
        await Http.PostGenericAsync(new { name = "GameDayCli", fingerprint = "gd-cli-1" });
        var (exit, output) = await cli;

        Assert.True(exit == 0, output);
        Assert.Contains("✓ run succeeded: remediated in ", output, StringComparison.Ordinal);
        Assert.Contains("✓ verify passed: recovered in ", output, StringComparison.Ordinal);
        Assert.Contains("Succeeded", output, StringComparison.Ordinal);
        Assert.Contains("time to detect", output, StringComparison.Ordinal);
    }

    private static async Task<(int Exit, string Output)> RunCliAsync(params string[] arguments)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "runbook.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private async Task<JsonElement> StartAsync(string runbook)
    {
        var (status, body) = await Http.SendAsync(HttpMethod.Post, $"/api/runbooks/{runbook}/gamedays", new { by = "test" });
        Assert.True(status == 202, $"starting a game day of {runbook} answered {status}: {body}");
        return body;
    }

    private Task<JsonElement> PhaseAsync(string id, string phase) =>
        Http.UntilAsync($"/api/gamedays/{id}", g => g.GetProperty("phase").GetString() == phase ? g : null, $"game day {id} never reached {phase}");

    private Task<JsonElement> EndedAsync(string id) =>
        Http.UntilAsync($"/api/gamedays/{id}", g => g.GetProperty("status").GetString() != "Running" ? g : null, $"game day {id} never ended");

    private static (double Detect, double Remediate, double Recover) Times(JsonElement gameDay) => (
        gameDay.GetProperty("timeToDetectSeconds").GetDouble(),
        gameDay.GetProperty("timeToRemediateSeconds").GetDouble(),
        gameDay.GetProperty("timeToRecoverSeconds").GetDouble());

    private static string Error(JsonElement body) => body.GetProperty("error").GetString()!;

    private static readonly Dictionary<string, string> Runbooks = new()
    {
        ["gd-fixed"] = """
            // ---
            // description: Removes the fault file its game day leaves
            // alerts:
            //   - name: GameDayFault
            // gameday:
            //   inject: touch gd-fixed.fault
            //   verify: test ! -e gd-fixed.fault
            //   restore: touch gd-fixed.restored
            //   timeout: 2m
            // ---
            await Step("fix", ct => { File.Delete("gd-fixed.fault"); return Task.CompletedTask; });
            """,
        ["gd-cli"] = """
            // ---
            // description: Its game day is started from the CLI
            // alerts:
            //   - name: GameDayCli
            // gameday:
            //   inject: "true"
            //   verify: "true"
            //   timeout: 2m
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
        ["gd-unheard"] = """
            // ---
            // description: Its game day's alert never comes
            // alerts:
            //   - name: GameDayUnheard
            // gameday:
            //   inject: "true"
            //   verify: "true"
            //   restore: "true"
            //   timeout: 3s
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
        ["gd-inject-fails"] = """
            // ---
            // description: Its game day cannot break anything
            // alerts:
            //   - name: GameDayInjectFails
            // gameday:
            //   inject: bash -c 'echo cannot break it >&2; exit 3'
            //   verify: "true"
            //   restore: touch gd-inject-fails.restored
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
        ["gd-cooling"] = """
            // ---
            // description: Cools down for an hour after a run, so its game day's alert is held
            // alerts:
            //   - name: GameDayCooling
            // cooldown: 1h
            // gameday:
            //   inject: "true"
            //   verify: "true"
            //   timeout: 3s
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
        ["gd-shadow"] = """
            // ---
            // description: Only proposes, so its game day would leave the fault
            // mode: shadow
            // alerts:
            //   - name: GameDayShadow
            // gameday:
            //   inject: touch gd-shadow.fault
            //   verify: test ! -e gd-shadow.fault
            // ---
            await Step("fix", ct => { File.Delete("gd-shadow.fault"); return Task.CompletedTask; });
            """,
        ["gd-cooling-key"] = """
            // ---
            // description: Cools down for an hour on one key whatever the alert
            // alerts:
            //   - name: GameDayCoolingKey
            // concurrency: gd-cooling-key
            // cooldown: 1h
            // gameday:
            //   inject: touch gd-cooling-key.fault
            //   verify: "true"
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
        ["gd-no-alerts"] = """
            // ---
            // description: Nothing but a person starts it
            // gameday:
            //   inject: "true"
            //   verify: "true"
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
        ["gd-waits-long"] = """
            // ---
            // description: Its game day waits long for an alert
            // alerts:
            //   - name: GameDayWaitsLong
            // gameday:
            //   inject: "true"
            //   verify: "true"
            //   restore: touch gd-waits-long.restored
            //   timeout: 10m
            // ---
            await Step("fix", ct => Task.CompletedTask);
            """,
    };

    public sealed class HostFixture : IAsyncLifetime
    {
        internal HostWorkspace Workspace { get; private set; } = null!;

        public async Task InitializeAsync() => Workspace = await HostWorkspace.StartAsync(extraRunbooks: Runbooks);

        public async Task DisposeAsync() => await Workspace.DisposeAsync();
    }
}
