namespace RunbookEngine.IntegrationTests;

/// <summary>The <c>concurrency:</c> key: one run at a time per target, queued in order or refused.</summary>
public sealed class runs_sharing_a_target : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;
    private string _work = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync()
    {
        _workspace = await HostWorkspace.StartAsync();
        _work = Directory.CreateTempSubdirectory("runbook-key-").FullName;
    }

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task wait_in_order_while_other_targets_run()
    {
        var a = await Http.TriggerAsync("serial", new { work = _work, target = "web-1", name = "a" });
        Started("a");
        var b = await Http.TriggerAsync("serial", new { work = _work, target = "web-1", name = "b" });
        var c = await Http.TriggerAsync("serial", new { work = _work, target = "web-2", name = "c" });
        Started("c");

        var (_, waiting) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{b}");
        Assert.Equal("Queued", waiting.Status());
        Assert.False(File.Exists(Path.Combine(_work, "started-b")));

        Release("a");
        var first = await Http.EndedRunAsync(a);
        Started("b");
        Release("b");
        Release("c");
        var second = await Http.EndedRunAsync(b);
        var other = await Http.EndedRunAsync(c);

        Assert.Equal(("Succeeded", "Succeeded", "Succeeded"), (first.Status(), second.Status(), other.Status()));
        Assert.True(second.GetProperty("run").GetProperty("startedAt").GetDateTimeOffset() >= first.GetProperty("run").GetProperty("finishedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task are_refused_when_the_runbook_says_so()
    {
        var holder = await Http.TriggerAsync("exclusive", new { work = _work, target = "db-1", name = "holder" });
        Started("holder");

        var (status, body) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/exclusive/runs", new { parameters = new { work = _work, target = "db-1", name = "second" } });
        var elsewhere = await Http.TriggerAsync("exclusive", new { work = _work, target = "db-2", name = "elsewhere" });
        Release("holder");
        Release("elsewhere");

        Assert.Equal(409, status);
        Assert.Contains($"run {holder} holds concurrency key exclusive:db-1", body.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(elsewhere)).Status());
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(holder)).Status());
    }

    private void Started(string name) =>
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(_work, "started-" + name)), TimeSpan.FromMinutes(1)), $"run {name} never started");

    private void Release(string name) => File.WriteAllText(Path.Combine(_work, "release-" + name), "");
}
