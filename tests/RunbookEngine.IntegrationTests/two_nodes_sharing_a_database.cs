namespace RunbookEngine.IntegrationTests;

/// <summary>Two hosts in cluster mode on one PostgreSQL database, both taking runs.</summary>
public sealed class two_nodes_sharing_a_database : IAsyncLifetime
{
    private readonly List<HostWorkspace> _nodes = [];

    public async Task InitializeAsync() => _nodes.AddRange(await HostWorkspace.StartClusterAsync(nameof(two_nodes_sharing_a_database), 2));

    public Task DisposeAsync() => HostWorkspace.DisposeAllAsync(_nodes);

    [Fact]
    public async Task five_hundred_runs_triggered_through_both_nodes_each_execute_exactly_once()
    {
        const int runs = 500;
        var dir = Directory.CreateTempSubdirectory("runbook-once-").FullName;
        using var gate = new SemaphoreSlim(16);
        var triggers = Enumerable.Range(0, runs).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                return await _nodes[i % 2].Http.TriggerAsync("count", new { dir });
            }
            finally
            {
                gate.Release();
            }
        });
        var ids = await Task.WhenAll(triggers);

        var ended = await Task.WhenAll(ids.Select(async id =>
        {
            await gate.WaitAsync();
            try
            {
                return await _nodes[0].Http.EndedRunAsync(id);
            }
            finally
            {
                gate.Release();
            }
        }));

        Assert.All(ended, run => Assert.Equal(("Succeeded", 1), (run.Status(), run.GetProperty("run").GetProperty("attempt").GetInt32())));
        var executions = Directory.GetFiles(dir).Select(file => Path.GetFileName(file).Split('.')[0]).ToList();
        Assert.Equal(runs, executions.Count);
        Assert.Equal(ids.Order(), executions.Order());
        var byNode = ended.GroupBy(run => run.GetProperty("run").GetProperty("node").GetString()).ToDictionary(g => g.Key!, g => g.Count());
        Assert.True(byNode.Count == 2, $"one node did all the work: {string.Join(", ", byNode)}");
    }
}
