using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A host whose catalog source is <c>github</c>: it follows <c>main</c> of a repository on a fake GitHub API on loopback
/// through Octokit (a commit, then its tarball), told about pushes by the signed push webhook, and checks what it loads.
/// </summary>
public sealed class runbooks_from_github_through_its_api : IAsyncLifetime
{
    private const string Secret = "github-source-secret";
    private FakeGitHubApi _api = null!;
    private HostWorkspace _host = null!;
    private string _first = "";

    private HttpClient Http => _host.Http;

    public async Task InitializeAsync()
    {
        _api = FakeGitHubApi.Start();
        _first = _api.Push("main", new Dictionary<string, string?> { ["ops/runbooks/greet.csx"] = Runbook("v1"), ["README.md"] = "# runbooks" }, "First runbooks");
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Catalog__Source"] = "github",
            ["RunbookEngine__Catalog__Git__Branch"] = "main",
            ["RunbookEngine__Catalog__Git__Path"] = "ops/runbooks",
            ["RunbookEngine__Catalog__Git__FetchInterval"] = "01:00:00",
            ["RunbookEngine__GitHub__ApiUrl"] = _api.Address.ToString(),
            ["RunbookEngine__GitHub__Repository"] = "acme/runbooks",
            ["RunbookEngine__GitHub__Token"] = "ghp_source-token",
            ["RunbookEngine__GitHub__WebhookSecret"] = Secret,
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _api.DisposeAsync();
    }

    private static string Runbook(string marker) => $$"""
        // ---
        // description: Greets
        // ---
        await Step("say", ct => { Log.Info("hello from {{marker}}"); return Task.CompletedTask; });
        """;

    [Fact]
    public async Task a_pushed_commit_is_fetched_through_the_api_served_checked_and_run()
    {
        var (_, catalog) = await Http.SendAsync(HttpMethod.Get, "/api/catalog");
        var firstRun = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));
        var second = _api.Push("main", new Dictionary<string, string?> { ["ops/runbooks/greet.csx"] = Runbook("v2") }, "Greet anew");
        var body = GitHubDeliveries.Push("refs/heads/main", second);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-GitHub-Event", "push");
        request.Headers.TryAddWithoutValidation("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", GitHubDeliveries.Sign(Secret, body));
        using var hook = await Http.SendAsync(request);
        await Http.UntilAsync("/api/catalog", c => c.GetProperty("commit").GetString() == second ? c : null, "the pushed commit was not served");
        var secondRun = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, second)), "the pushed commit was not checked");

        Assert.Equal(("github", _first), (catalog.GetProperty("source").GetString(), catalog.GetProperty("commit").GetString()));
        Assert.Contains("acme/runbooks (main, ops/runbooks, through the API)", catalog.GetProperty("location").GetString(), StringComparison.Ordinal);
        Assert.Equal(202, (int)hook.StatusCode);
        Assert.Contains("hello from v1", firstRun.Steps().Single().Output, StringComparison.Ordinal);
        Assert.Contains("hello from v2", secondRun.Steps().Single().Output, StringComparison.Ordinal);
        Assert.Equal(second, secondRun.GetProperty("run").GetProperty("commit").GetString());
        Assert.Contains(requests, q => IsCreate(q, _first));
        Assert.Equal("success", requests.Single(q => IsCreate(q, second)).Body!.Value.GetProperty("conclusion").GetString());
        Assert.Contains(requests, q => q.Path == $"/repos/acme/runbooks/tarball/{second}");
        Assert.DoesNotContain("ghp_source-token", _host.Host.Log, StringComparison.Ordinal);
    }

    private static bool IsCreate(GitHubRequest request, string commit) =>
        request.Method == "POST" && request.Path == "/repos/acme/runbooks/check-runs" && request.Body?.GetProperty("head_sha").GetString() == commit;
}
