using Xunit.Abstractions;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>Nodes on one PostgreSQL database following one Git branch.</summary>
public sealed class a_cluster_following_git(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Secret = "cluster-sync-secret";
    private readonly List<HostWorkspace> _nodes = [];
    private GitRemote _remote = null!;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _remote = await GitRemote.CreateAsync();
        await _remote.CommitAsync("v1", new Dictionary<string, string?> { ["echo.csx"] = Echo("v1") });
        _database = await (await PostgresServer.SharedAsync()).CreateDatabaseAsync(nameof(a_cluster_following_git));
    }

    public Task DisposeAsync() => HostWorkspace.DisposeAllAsync(_nodes);

    private static string Echo(string marker) => $$"""
        // ---
        // description: Says which version it is
        // ---
        await Step("echo", ct => { Log.Info("version {{marker}}"); return Task.CompletedTask; });
        """;

    private async Task<HostWorkspace> StartNodeAsync(string id, bool executes, bool followsGit = true, IReadOnlyDictionary<string, string>? runbooks = null, Uri? gitHubApi = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = _database,
            ["RunbookEngine__NodeId"] = id,
            ["RunbookEngine__ExecutesRuns"] = executes ? "true" : "false",
        };
        if (followsGit)
        {
            settings["RunbookEngine__Catalog__Source"] = "git";
            settings["RunbookEngine__Catalog__Git__Url"] = _remote.Bare;
            settings["RunbookEngine__Catalog__Git__WebhookSecret"] = Secret;
            settings["RunbookEngine__Catalog__Git__FetchInterval"] = "01:00:00";
        }

        if (gitHubApi is not null)
        {
            settings["RunbookEngine__GitHub__ApiUrl"] = gitHubApi.ToString();
            settings["RunbookEngine__GitHub__Repository"] = "acme/runbooks";
            settings["RunbookEngine__GitHub__Token"] = "ghp_cluster-token";
        }

        var node = await HostWorkspace.StartAsync(settings, runbooks);
        _nodes.Add(node);
        return node;
    }

    [Fact]
    public async Task a_push_announced_to_one_node_is_followed_by_the_others()
    {
        var first = await StartNodeAsync("node-0", executes: true);
        var second = await StartNodeAsync("node-1", executes: true);
        var v2 = await _remote.CommitAsync("v2", new Dictionary<string, string?> { ["echo.csx"] = Echo("v2") });

        var (status, _) = await PushAsync(first, v2);
        var followed = await UntilAsync(async () => await CommitOfAsync(second) == v2);

        Assert.Equal(202, status);
        output.WriteLine($"node-1 followed {followed.TotalMilliseconds:0} ms after the webhook");
        Assert.Equal(v2, await CommitOfAsync(first));
    }

    [Fact]
    public async Task a_run_queued_for_a_version_runs_that_version_on_a_node_that_does_not_serve_it()
    {
        // node-1 serves only v1 (a folder of its own); node-0 takes the API and webhook and never executes.
        var front = await StartNodeAsync("node-0", executes: false);
        var worker = await StartNodeAsync("node-1", executes: true, followsGit: false, runbooks: new Dictionary<string, string> { ["echo"] = Echo("v1") });
        var v2 = await _remote.CommitAsync("v2", new Dictionary<string, string?> { ["echo.csx"] = Echo("v2") });
        await PushAsync(front, v2);
        await UntilAsync(async () => await CommitOfAsync(front) == v2);

        var run = await front.Http.EndedRunAsync(await front.Http.TriggerAsync("echo", new { }));

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal("node-1", run.GetProperty("run").GetProperty("node").GetString());
        Assert.Equal(v2, run.GetProperty("run").GetProperty("commit").GetString());
        Assert.Contains("version v2", run.Steps().Single().Output, StringComparison.Ordinal);
        var (_, served) = await worker.Http.SendAsync(HttpMethod.Get, "/api/runbooks/echo");
        Assert.NotEqual(run.GetProperty("run").GetProperty("contentHash").GetString(), served.GetProperty("version").GetString());
    }

    [Fact]
    public async Task a_push_delivery_replayed_to_another_node_is_recognised_as_a_redelivery()
    {
        var first = await StartNodeAsync("node-0", executes: false);
        var second = await StartNodeAsync("node-1", executes: false);
        var v2 = await _remote.CommitAsync("v2", new Dictionary<string, string?> { ["echo.csx"] = Echo("v2") });

        var (delivered, _) = await PushAsync(first, v2, "delivery-seen-by-node-0");
        var (replayed, answer) = await PushAsync(second, v2, "delivery-seen-by-node-0");

        Assert.Equal((202, 200), (delivered, replayed));
        Assert.Contains("already handled", answer.GetProperty("ignored").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task two_nodes_that_load_the_same_commit_post_one_check_on_it_between_them()
    {
        await using var api = FakeGitHubApi.Start();
        var commit = await _remote.CommitAsync("v2", new Dictionary<string, string?> { ["echo.csx"] = Echo("v2") });

        // Both report the commit they start at, and the fake lists no check run to either: the database decides.
        var nodes = await Task.WhenAll(StartNodeAsync("node-0", executes: false, gitHubApi: api.Address), StartNodeAsync("node-1", executes: false, gitHubApi: api.Address));
        await api.UntilAsync(r => r.Any(q => IsCreate(q, commit)), "no node checked the commit");
        await UntilAsync(() => Task.FromResult(nodes.Any(n => n.Host.Log.Contains("another node's to post", StringComparison.Ordinal))));

        Assert.Single(api.Requests, q => IsCreate(q, commit));
        Assert.Single(nodes, n => n.Host.Log.Contains($"The runbooks check on {commit} is another node's to post", StringComparison.Ordinal));
    }

    private static bool IsCreate(GitHubRequest request, string commit) =>
        request.Method == "POST" && request.Path == "/repos/acme/runbooks/check-runs" && request.Body?.GetProperty("head_sha").GetString() == commit;

    private static async Task<string?> CommitOfAsync(HostWorkspace node)
    {
        var (_, catalog) = await node.Http.SendAsync(HttpMethod.Get, "/api/catalog");
        return catalog.TryGetProperty("commit", out var commit) ? commit.GetString() : null;
    }

    private static async Task<(int Status, JsonElement Body)> PushAsync(HostWorkspace node, string after, string? delivery = null)
    {
        var body = GitHubDeliveries.Push("refs/heads/main", after);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", delivery ?? Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", GitHubDeliveries.Sign(Secret, body));
        using var response = await node.Http.SendAsync(request);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone());
    }

    private static async Task<TimeSpan> UntilAsync(Func<Task<bool>> condition)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(2), "the expected state was never reached");
            await tick.WaitForNextTickAsync();
        }

        return TimeProvider.System.GetElapsedTime(started);
    }
}
