namespace RunbookEngine.IntegrationTests;

/// <summary>Two hosts on one PostgreSQL database; the one running a run is killed with SIGKILL.</summary>
public sealed class a_cluster_that_loses_a_node : IAsyncLifetime
{
    private readonly List<HostWorkspace> _nodes = [];

    public async Task InitializeAsync() => _nodes.AddRange(await HostWorkspace.StartClusterAsync(nameof(a_cluster_that_loses_a_node), 2));

    public Task DisposeAsync() => HostWorkspace.DisposeAllAsync(_nodes);

    [Fact]
    public async Task its_run_resumes_on_the_other_node_without_repeating_completed_steps()
    {
        var work = Directory.CreateTempSubdirectory("runbook-crash-").FullName;
        var hold = Path.Combine(work, "hold.log");
        var (runId, victim, survivor) = await StartAndKillItsNodeAsync(work, idempotent: true);

        Assert.True(SpinWait.SpinUntil(() => File.ReadAllLines(hold).Length == 2, TimeSpan.FromMinutes(1)), "the run was not recovered on the other node");
        File.WriteAllText(Path.Combine(work, "release"), "go");
        var run = await survivor.Http.EndedRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(2, run.GetProperty("run").GetProperty("attempt").GetInt32());
        Assert.NotEqual(victim, run.GetProperty("run").GetProperty("node").GetString());
        Assert.Equal(["ran in attempt 1"], File.ReadAllLines(Path.Combine(work, "first.log")));
        Assert.Equal(["held in attempt 1", "held in attempt 2"], File.ReadAllLines(hold));
        Assert.Equal([("first", "Succeeded"), ("hold", "Succeeded")], run.Steps().Select(s => (s.Name, s.Status)));
    }

    [Fact]
    public async Task a_step_in_flight_that_is_not_idempotent_stops_the_run_for_a_person()
    {
        var work = Directory.CreateTempSubdirectory("runbook-crash-").FullName;
        var (runId, _, survivor) = await StartAndKillItsNodeAsync(work, idempotent: false);

        var run = await survivor.Http.EndedRunAsync(runId);

        Assert.Equal("WaitingForHuman", run.Status());
        Assert.Equal("step 2 'hold' was in flight when the run was interrupted and is not marked idempotent; check what it did, then retry the run",
            run.GetProperty("run").GetProperty("error").GetString());
        Assert.Equal(["held in attempt 1"], File.ReadAllLines(Path.Combine(work, "hold.log")));
        Assert.Equal(["ran in attempt 1"], File.ReadAllLines(Path.Combine(work, "first.log")));
    }

    /// <summary>Starts the run, waits until it holds in its second step, and kills whichever node runs it.</summary>
    private async Task<(string RunId, string Victim, HostWorkspace Survivor)> StartAndKillItsNodeAsync(string work, bool idempotent)
    {
        var runId = await _nodes[0].Http.TriggerAsync("two-phase", new { work, idempotent });
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(work, "hold.log")), TimeSpan.FromMinutes(1)), "the run never reached its second step");

        var (_, before) = await _nodes[0].Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");
        var victim = before.GetProperty("run").GetProperty("node").GetString()!;
        var (dead, survivor) = victim == "node-0" ? (_nodes[0], _nodes[1]) : (_nodes[1], _nodes[0]);
        dead.Host.Kill();
        return (runId, victim, survivor);
    }
}
