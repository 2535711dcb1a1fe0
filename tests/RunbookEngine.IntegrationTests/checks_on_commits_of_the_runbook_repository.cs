using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A host following a repository on disk reports each commit it loads to a fake GitHub API on loopback, as a
/// <c>runbooks</c> check run; the push webhook is signed with the secret at its new home, <c>GitHub:WebhookSecret</c>.
/// </summary>
public sealed class checks_on_commits_of_the_runbook_repository : IAsyncLifetime
{
    private const string Secret = "checks-webhook-secret";
    private FakeGitHubApi _api = null!;
    private GitRemote _remote = null!;
    private HostWorkspace _host = null!;
    private string _firstCommit = "";

    private HttpClient Http => _host.Http;

    public async Task InitializeAsync()
    {
        _api = FakeGitHubApi.Start();
        _remote = await GitRemote.CreateAsync();
        _firstCommit = await _remote.CommitAsync("First runbooks", new Dictionary<string, string?> { ["ops/runbooks/greet.csx"] = Runbook("v1") });
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Catalog__Source"] = "git",
            ["RunbookEngine__Catalog__Git__Url"] = _remote.Bare,
            ["RunbookEngine__Catalog__Git__Path"] = "ops/runbooks",
            ["RunbookEngine__Catalog__Git__FetchInterval"] = "01:00:00",
            ["RunbookEngine__GitHub__ApiUrl"] = _api.Address.ToString(),
            ["RunbookEngine__GitHub__Repository"] = "acme/runbooks",
            ["RunbookEngine__GitHub__Token"] = "ghp_integration-token",
            ["RunbookEngine__GitHub__WebhookSecret"] = Secret,
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _api.DisposeAsync();
    }

    private static string Runbook(string marker, string extra = "") => $$"""
        // ---
        // description: Greets
        // ---
        await Step("say", ct => { Log.Info("hello from {{marker}}"); return Task.CompletedTask; });
        {{extra}}
        """;

    [Fact]
    public async Task a_pushed_broken_runbook_gets_a_failed_check_at_its_file_and_line_while_the_last_good_version_serves()
    {
        var first = await _api.UntilAsync(r => r.Any(q => IsCreate(q, _firstCommit)), "the commit loaded at start was not checked");
        Assert.Equal("success", first.Single(q => IsCreate(q, _firstCommit)).Body!.Value.GetProperty("conclusion").GetString());
        var (_, before) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet");

        var broken = await _remote.CommitAsync("Break greet", new Dictionary<string, string?> { ["ops/runbooks/greet.csx"] = Runbook("v2", "undefinedName();") });
        var body = GitHubDeliveries.Push("refs/heads/main", broken);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-GitHub-Event", "push");
        request.Headers.TryAddWithoutValidation("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", GitHubDeliveries.Sign(Secret, body));
        using var hook = await Http.SendAsync(request);
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, broken)), "the broken commit was not checked");

        Assert.Equal(202, (int)hook.StatusCode);
        var check = requests.Single(q => IsCreate(q, broken));
        Assert.Equal("Token ghp_integration-token", check.Authorization);
        var posted = check.Body!.Value;
        Assert.Equal(("runbooks", "completed", "failure"), (posted.GetProperty("name").GetString(), posted.GetProperty("status").GetString(), posted.GetProperty("conclusion").GetString()));
        var annotation = Assert.Single(posted.GetProperty("output").GetProperty("annotations").EnumerateArray());
        Assert.Equal(("ops/runbooks/greet.csx", 5, 5, "failure"),
            (annotation.GetProperty("path").GetString(), annotation.GetProperty("start_line").GetInt32(), annotation.GetProperty("end_line").GetInt32(), annotation.GetProperty("annotation_level").GetString()));
        Assert.Contains("undefinedName", annotation.GetProperty("message").GetString(), StringComparison.Ordinal);
        var summary = posted.GetProperty("output").GetProperty("summary").GetString()!;
        Assert.Contains("Changed: `greet`", summary, StringComparison.Ordinal);
        Assert.Contains("Keep serving their last good version: `greet`", summary, StringComparison.Ordinal);

        var (_, after) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet");
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));
        Assert.True(after.GetProperty("valid").GetBoolean());
        Assert.Equal(before.GetProperty("version").GetString(), after.GetProperty("version").GetString());
        Assert.Equal(broken, after.GetProperty("failingVersion").GetProperty("commit").GetString());
        Assert.Equal("Succeeded", run.Status());
        Assert.Contains("hello from v1", run.Steps().Single().Output, StringComparison.Ordinal);
        // The API's host stands in for a GitHub Enterprise Server's: its pages are on the same host.
        var commitUrl = $"{_api.Address}acme/runbooks/commit/{_firstCommit}";
        Assert.Equal(commitUrl, run.GetProperty("provenance").GetProperty("commitUrl").GetString());
        var runPage = await Http.GetStringAsync($"/runs/{run.GetProperty("run").GetProperty("id").GetString()}");
        Assert.Contains($"<a class=\"mono\" href=\"{commitUrl}\" title=\"{_firstCommit}\">{_firstCommit[..7]}</a>", runPage, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_integration-token", _host.Host.Log, StringComparison.Ordinal);
    }

    private static bool IsCreate(GitHubRequest request, string commit) =>
        request.Method == "POST" && request.Path == "/repos/acme/runbooks/check-runs" && request.Body?.GetProperty("head_sha").GetString() == commit;
}
