using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>The same host on PostgreSQL in cluster mode (one node here; the multi-node tests build on this).</summary>
public sealed class running_on_postgresql : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;

    public async Task InitializeAsync()
    {
        var server = await PostgresServer.SharedAsync();
        var database = await server.CreateDatabaseAsync(nameof(running_on_postgresql));
        _workspace = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = database,
        });
    }

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task a_triggered_run_succeeds_on_the_clustered_store()
    {
        var runId = await _workspace.Http.TriggerAsync("hello", new { who = "cluster" });

        var run = await _workspace.Http.EndedRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(2, run.Steps().Count);
        Assert.False(string.IsNullOrEmpty(run.GetProperty("run").GetProperty("node").GetString()));
    }
}
