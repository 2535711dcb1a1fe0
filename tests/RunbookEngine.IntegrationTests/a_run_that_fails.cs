namespace RunbookEngine.IntegrationTests;

/// <summary>Run-level retries from the front matter (<c>retries: 2</c>, <c>retry_backoff: 1s</c>).</summary>
public sealed class a_run_that_fails : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync();

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task is_retried_with_backoff_and_resumes_at_the_failed_step()
    {
        var work = Directory.CreateTempSubdirectory("runbook-retry-").FullName;

        var runId = await _workspace.Http.TriggerAsync("flaky", new { work });
        var run = await WaitForEndAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(3, run.GetProperty("run").GetProperty("attempt").GetInt32());
        Assert.Equal(["attempt 1"], File.ReadAllLines(Path.Combine(work, "prepare.log")));
        Assert.Equal([("prepare", "Succeeded"), ("flaky", "Succeeded")], run.Steps().Select(s => (s.Name, s.Status)));
    }

    [Fact]
    public async Task fails_for_good_when_its_retries_are_spent()
    {
        var work = Directory.CreateTempSubdirectory("runbook-retry-").FullName;

        var runId = await _workspace.Http.TriggerAsync("flaky", new { work, succeed_on = 10 });
        var run = await WaitForEndAsync(runId);

        Assert.Equal("Failed", run.Status());
        Assert.Equal(3, run.GetProperty("run").GetProperty("attempt").GetInt32());
        Assert.Contains("not yet (attempt 3)", run.GetProperty("run").GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    /// <summary>Between attempts the run is Queued again, so the wait is repeated until it has really ended.</summary>
    private async Task<System.Text.Json.JsonElement> WaitForEndAsync(string runId)
    {
        for (var i = 0; ; i++)
        {
            var run = await _workspace.Http.EndedRunAsync(runId);
            if (run.Status() is not ("Queued" or "Running") || i == 20)
            {
                return run;
            }
        }
    }
}
