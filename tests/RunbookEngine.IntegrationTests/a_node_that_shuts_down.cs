namespace RunbookEngine.IntegrationTests;

/// <summary>Two hosts on one PostgreSQL database; the one running a run is stopped with SIGTERM.</summary>
public sealed class a_node_that_shuts_down : IAsyncLifetime
{
    private readonly List<HostWorkspace> _nodes = [];

    public async Task InitializeAsync() => _nodes.AddRange(await HostWorkspace.StartClusterAsync(
        nameof(a_node_that_shuts_down), 2, settings: new Dictionary<string, string> { ["RunbookEngine__ShutdownGrace"] = "00:00:02" }));

    public Task DisposeAsync() => HostWorkspace.DisposeAllAsync(_nodes);

    [Fact]
    public async Task lets_a_step_that_ends_within_the_grace_finish_where_it_runs()
    {
        var work = Directory.CreateTempSubdirectory("runbook-stop-").FullName;
        var (runId, stopping, survivor) = await StartAndFindItsNodeAsync(work, idempotent: false);

        var stopped = stopping.Host.StopAsync(TimeSpan.FromMinutes(1));
        Assert.True(SpinWait.SpinUntil(() => stopping.Host.Log.Contains("Application is shutting down", StringComparison.Ordinal), TimeSpan.FromMinutes(1)));
        File.WriteAllText(Path.Combine(work, "release"), "go");
        Assert.Equal(0, await stopped);
        var run = await survivor.Http.EndedRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(1, run.GetProperty("run").GetProperty("attempt").GetInt32());
        Assert.Equal(["held in attempt 1"], File.ReadAllLines(Path.Combine(work, "hold.log")));
    }

    [Fact]
    public async Task interrupts_a_step_past_the_grace_and_the_run_resumes_on_the_other_node()
    {
        var work = Directory.CreateTempSubdirectory("runbook-stop-").FullName;
        var (runId, stopping, survivor) = await StartAndFindItsNodeAsync(work, idempotent: true);

        Assert.Equal(0, await stopping.Host.StopAsync(TimeSpan.FromMinutes(1)));
        var hold = Path.Combine(work, "hold.log");
        Assert.True(SpinWait.SpinUntil(() => File.ReadAllLines(hold).Length == 2, TimeSpan.FromMinutes(1)), "the run was not resumed on the other node");
        File.WriteAllText(Path.Combine(work, "release"), "go");
        var run = await survivor.Http.EndedRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(2, run.GetProperty("run").GetProperty("attempt").GetInt32());
        Assert.Equal(["ran in attempt 1"], File.ReadAllLines(Path.Combine(work, "first.log")));
        Assert.Contains("interrupted by shutdown", stopping.Host.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_interrupted_step_that_is_not_idempotent_stops_the_run_for_a_person()
    {
        var work = Directory.CreateTempSubdirectory("runbook-stop-").FullName;
        var (runId, stopping, survivor) = await StartAndFindItsNodeAsync(work, idempotent: false);

        Assert.Equal(0, await stopping.Host.StopAsync(TimeSpan.FromMinutes(1)));
        var run = await survivor.Http.EndedRunAsync(runId);

        Assert.Equal("WaitingForHuman", run.Status());
        Assert.Equal(["held in attempt 1"], File.ReadAllLines(Path.Combine(work, "hold.log")));
        Assert.Contains(run.Steps(), s => s is ("hold", "Interrupted", _));
    }

    private async Task<(string RunId, HostWorkspace Stopping, HostWorkspace Survivor)> StartAndFindItsNodeAsync(string work, bool idempotent)
    {
        var runId = await _nodes[0].Http.TriggerAsync("two-phase", new { work, idempotent });
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(work, "hold.log")), TimeSpan.FromMinutes(1)), "the run never reached its second step");

        var (_, before) = await _nodes[0].Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");
        var node = before.GetProperty("run").GetProperty("node").GetString()!;
        return node == "node-0" ? (runId, _nodes[0], _nodes[1]) : (runId, _nodes[1], _nodes[0]);
    }
}
