using System.Text;
using System.Text.RegularExpressions;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>A host on a PostgreSQL of its own, which the test stops under it and starts again.</summary>
public sealed class a_database_that_goes_away : IAsyncLifetime
{
    private PostgresServer _server = null!;
    private HostWorkspace _host = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartOwnAsync();
        try
        {
            var database = await _server.CreateDatabaseAsync(nameof(a_database_that_goes_away));
            _host = await HostWorkspace.StartAsync(new Dictionary<string, string>
            {
                ["RunbookEngine__Storage"] = "postgres",
                ["RunbookEngine__ConnectionString"] = database,
                ["RunbookEngine__NodeId"] = "lonely",
            });
        }
        catch
        {
            // xunit does not call DisposeAsync when InitializeAsync throws; the server would hold its port until the end.
            await _server.StopAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _server.StopAsync();
    }

    [Fact]
    public async Task makes_webhooks_answer_503_so_senders_retry_and_loses_nothing_once_it_is_back()
    {
        var work = Directory.CreateTempSubdirectory("runbook-dbdown-").FullName;
        var alert = Encoding.UTF8.GetBytes($$"""{"name": "DiskFull", "labels": {"instance": "db-down:9100", "severity": "critical"}, "annotations": {"work": "{{work}}"}, "startsAt": "2026-11-24T03:00:00Z"}""");

        await _server.StopAsync();
        var (downStatus, down) = await _host.Http.PostHookAsync("generic", alert);
        var (readyStatus, _) = await _host.Http.SendAsync(HttpMethod.Get, "/readyz");
        await _server.RestartAsync();

        Assert.Equal(503, downStatus);
        Assert.Contains("retry", down.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(503, readyStatus);

        // As Alertmanager would: the same body again until it is taken. Pooled connections broken by the restart may
        // cost an attempt or two.
        var (status, body) = (0, default(System.Text.Json.JsonElement));
        for (var attempt = 0; attempt < 20 && status != 202; attempt++)
        {
            (status, body) = await _host.Http.PostHookAsync("generic", alert);
        }

        Assert.True(status == 202, $"{status}: {body}\n{_host.Host.Log}");
        var stored = await _host.Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        Assert.Equal("Started", stored.Outcome());
        Assert.NotNull(stored.Decisions().Single().RunId);
        Assert.Equal(1, await _host.Http.AlertCountAsync());
        var run = await RunSoonAsync(stored.Decisions().Single().RunId!);
        Assert.Equal("Succeeded", run.Status());
    }

    [Fact]
    public async Task lets_a_run_caught_mid_step_finish_once_it_is_back_with_every_step_journaled_once()
    {
        var work = Directory.CreateTempSubdirectory("runbook-dbdown-").FullName;
        var held = await _host.Http.TriggerAsync("outlasting", new { work });
        await _host.Http.UntilAsync(
            $"/api/runs/{held}",
            run => run.Steps() is [(_, "Succeeded", _), ("while the store is away", "Running", _)] ? run : null,
            "the run never reached its held step");

        // Queued just before the store goes: it may run before, or only after.
        var before = await _host.Http.TriggerAsync("hello", new { who = "before the outage" });
        await _server.StopAsync();

        // The step ends while nothing can be written; its outcome has to wait for the store.
        File.WriteAllText(Path.Combine(work, "open"), "");
        var alert = Encoding.UTF8.GetBytes($$"""{"name": "DiskFull", "labels": {"instance": "mid-run:9100", "severity": "critical"}, "annotations": {"work": "{{work}}"}, "startsAt": "2026-11-24T03:00:00Z"}""");
        var (downStatus, _) = await _host.Http.PostHookAsync("generic", alert);
        var (readyStatus, ready) = await _host.Http.SendAsync(HttpMethod.Get, "/readyz");
        Assert.Equal(503, downStatus);
        Assert.True(readyStatus == 503, $"{readyStatus}: {ready}");

        // The store comes back only once the step's outcome waits for it and the run watchdog has failed to read it,
        // so what follows sees a scheduler that has been through the outage: every claim looks stale on return.
        await LoggedAsync("The run store is unavailable");
        await LoggedAsync("The run watchdog could not read the store");
        await _server.RestartAsync();

        // Right after the store is back, as a sender retrying and a person would: both runs must start promptly.
        var (status, body) = (0, default(System.Text.Json.JsonElement));
        for (var attempt = 0; attempt < 20 && status != 202; attempt++)
        {
            (status, body) = await _host.Http.PostHookAsync("generic", alert);
        }

        Assert.True(status == 202, $"{status}: {body}\n{_host.Host.Log}");
        var fromAlert = (await _host.Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!)).Decisions().Single().RunId!;
        var after = await TriggerSoonAsync("hello", new { who = "after the outage" });

        var heldRun = await RunSoonAsync(held);
        Assert.True(heldRun.Status() == "Succeeded", $"{heldRun}\n{_host.Host.Log}");
        Assert.Equal(
            [("before", "Succeeded"), ("while the store is away", "Succeeded"), ("after", "Succeeded")],
            heldRun.Steps().Select(s => (s.Name, s.Status)));
        Assert.Equal(["before", "held", "after"], File.ReadAllLines(Path.Combine(work, held + ".tally")));
        foreach (var other in new[] { before, fromAlert, after })
        {
            var ended = await RunSoonAsync(other);
            Assert.True(ended.Status() == "Succeeded", $"{ended}\n{_host.Host.Log}");
        }

        Assert.True(File.Exists(Path.Combine(work, "cleaned-mid-run_9100")));
        Assert.Single(Regex.Matches(_host.Host.Log, "The run store is unavailable"));
        Assert.Contains("The run store is back", _host.Host.Log, StringComparison.Ordinal);
        var (_, runs) = await _host.Http.SendAsync(HttpMethod.Get, "/api/runs?limit=500");
        Assert.Equal(4, runs.GetProperty("runs").GetArrayLength());
    }

    /// <summary>Until the host has logged <paramref name="text"/>, for at most a minute.</summary>
    private async Task LoggedAsync(string text)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!_host.Host.Log.Contains(text, StringComparison.Ordinal))
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), $"the host never logged '{text}':\n{_host.Host.Log}");
            await tick.WaitForNextTickAsync();
        }
    }

    /// <summary>A person triggering a run as soon as the store is back; a broken pooled connection may cost a try.</summary>
    private async Task<string> TriggerSoonAsync(string runbook, object parameters)
    {
        var (status, body) = (0, default(System.Text.Json.JsonElement));
        for (var attempt = 0; attempt < 20 && status != 202; attempt++)
        {
            (status, body) = await _host.Http.SendAsync(HttpMethod.Post, $"/api/runbooks/{runbook}/runs", new { parameters });
        }

        Assert.True(status == 202, $"{status}: {body}\n{_host.Host.Log}");
        return body.GetProperty("runId").GetString()!;
    }

    /// <summary>The run once it has ended, which after the outage has to be soon: a minute is generous for a run of no-op steps.</summary>
    private async Task<System.Text.Json.JsonElement> RunSoonAsync(string runId)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (true)
        {
            var (status, body) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");
            if (status == 200 && body.Status() is "Succeeded" or "Failed" or "Cancelled" or "TimedOut")
            {
                return body;
            }

            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), $"run {runId} had not ended a minute after the store came back: {body}\n{_host.Host.Log}");
            await tick.WaitForNextTickAsync();
        }
    }
}
