namespace RunbookEngine.IntegrationTests;

/// <summary>Two hosts on one PostgreSQL database: a run that rests for a person does not belong to any node.</summary>
public sealed class people_in_the_loop_across_a_cluster : IAsyncLifetime
{
    private readonly List<HostWorkspace> _nodes = [];

    public async Task InitializeAsync() => _nodes.AddRange(await HostWorkspace.StartClusterAsync(
        nameof(people_in_the_loop_across_a_cluster), 2, settings: new Dictionary<string, string> { ["RunbookEngine__Roles__lead__0"] = "carol" }));

    public Task DisposeAsync() => HostWorkspace.DisposeAllAsync(_nodes);

    [Fact]
    public async Task an_approval_asked_on_a_node_that_dies_is_answered_through_another_which_finishes_the_run()
    {
        var (first, second) = (_nodes[0], _nodes[1]);
        var runId = await first.Http.TriggerAsync("gated", new { });
        await first.Http.WaitingStepAsync(runId, 2);

        first.Host.Kill();
        var (answered, _) = await second.Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "carol" });
        var run = await second.Http.TerminalRunAsync(runId);

        Assert.Equal(200, answered);
        Assert.Equal(("Succeeded", "node-1"), (run.Status(), run.GetProperty("run").GetProperty("node").GetString()));
        Assert.Equal([("prepare", "Succeeded"), ("Approve: Go ahead?", "Succeeded"), ("act", "Succeeded")], run.Steps().Select(s => (s.Name, s.Status)));
        Assert.Equal(1, run.GetProperty("run").GetProperty("attempt").GetInt32());
    }
}
