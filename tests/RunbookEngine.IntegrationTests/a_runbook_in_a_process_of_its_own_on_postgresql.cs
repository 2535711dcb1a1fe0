namespace RunbookEngine.IntegrationTests;

/// <summary><c>isolation: process</c> on the PostgreSQL store: the run's process reaches the same database as its node.</summary>
public sealed class a_runbook_in_a_process_of_its_own_on_postgresql : IAsyncLifetime
{
    private List<HostWorkspace> _nodes = null!;

    public async Task InitializeAsync() =>
        _nodes = await HostWorkspace.StartClusterAsync("isolated", 1, a_runbook_that_misbehaves.HardeningRunbooks());

    public async Task DisposeAsync() => await HostWorkspace.DisposeAllAsync(_nodes);

    [Fact]
    public async Task journals_its_steps_rests_for_a_person_and_resumes_in_a_new_process()
    {
        var http = _nodes[0].Http;
        var runId = await http.TriggerAsync("isolated", new { });
        await http.WaitingStepAsync(runId, 2);
        var (answered, _) = await http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "alice" });
        Assert.InRange(answered, 200, 299);

        var run = await http.TerminalRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(["greet", "Approve: Go on?", "after"], run.Steps().Select(s => s.Name));
        Assert.Contains("from the shell", run.Steps()[0].Output, StringComparison.Ordinal);
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(_nodes[0].Host.Log, $"Run {runId} executes in process"));
    }
}
