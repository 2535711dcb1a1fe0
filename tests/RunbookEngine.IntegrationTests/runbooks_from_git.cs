using Xunit.Abstractions;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>A host following the main branch of a bare repository on disk, told about pushes by signed GitHub webhooks.</summary>
public sealed class runbooks_from_git(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Secret = "runbook-sync-secret";
    private GitRemote _remote = null!;
    private HostWorkspace _host = null!;
    private string _firstCommit = "";

    private HttpClient Http => _host.Http;

    public async Task InitializeAsync()
    {
        _remote = await GitRemote.CreateAsync();
        _firstCommit = await _remote.CommitAsync("First runbooks", new Dictionary<string, string?>
        {
            ["runbooks/greet.csx"] = Runbook("greet", "v1"),
            ["runbooks/lib/words.csx"] = "string Word() => \"hello\";\n",
            ["README.md"] = "runbooks live in runbooks/\n",
        });
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Catalog__Source"] = "git",
            ["RunbookEngine__Catalog__Git__Url"] = _remote.Bare,
            ["RunbookEngine__Catalog__Git__Branch"] = "main",
            ["RunbookEngine__Catalog__Git__Path"] = "runbooks",
            ["RunbookEngine__Catalog__Git__WebhookSecret"] = Secret,
            ["RunbookEngine__Catalog__Git__FetchInterval"] = "01:00:00",
        });
    }

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static string Runbook(string description, string marker, string extra = "") => $$"""
        // ---
        // description: {{description}}
        // parameters:
        //   hold: { type: string, default: "" }
        // ---
        #load "lib/words.csx"
        await Step("say", async ct =>
        {
            var hold = Params.Get<string>("hold");
            using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            while (hold.Length > 0 && !File.Exists(hold) && await tick.WaitForNextTickAsync(ct))
            {
            }

            Log.Info($"{Word()} from {{marker}}");
        });
        {{extra}}
        """;

    [Fact]
    public async Task the_clone_serves_the_branch_and_runs_record_the_commit_and_link_their_source()
    {
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(_firstCommit, run.GetProperty("run").GetProperty("commit").GetString());
        using var source = await Http.GetAsync(run.GetProperty("source").GetString()!);
        var text = await source.Content.ReadAsStringAsync();
        Assert.Equal(200, (int)source.StatusCode);
        Assert.Contains("hello from v1", run.Steps().Single().Output, StringComparison.Ordinal);
        Assert.Contains("from v1", text, StringComparison.Ordinal);
        Assert.Contains("// ===== lib/words.csx =====", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_pushed_runbook_is_live_within_5_seconds_of_the_signed_webhook()
    {
        var commit = await _remote.CommitAsync("Add a runbook (#12)", new Dictionary<string, string?> { ["runbooks/fresh.csx"] = Runbook("fresh", "fresh") });
        var clock = Stopwatch.StartNew();
        var (status, _) = await PushHookAsync(commit, "refs/heads/main");

        await UntilAsync(async () => (await Http.SendAsync(HttpMethod.Get, "/api/runbooks/fresh")).Status == 200);
        var live = clock.Elapsed;
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("fresh", new { }));

        Assert.Equal(202, status);
        output.WriteLine($"live {live.TotalMilliseconds:0} ms after the webhook");
        Assert.Equal(commit, run.GetProperty("run").GetProperty("commit").GetString());
        var (_, versions) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/fresh/versions");
        var version = versions.EnumerateArray().Single();
        Assert.Equal((commit, "Ada Lovelace <ada@example.com>", "Add a runbook (#12)", true),
            (version.GetProperty("commit").GetString(), version.GetProperty("author").GetString(), version.GetProperty("message").GetString(), version.GetProperty("valid").GetBoolean()));
        // A squash merge's pull request is named even with no GitHub repository configured; only the links need one.
        var provenance = run.GetProperty("provenance");
        Assert.Equal((commit, "Add a runbook (#12)", 12, false, false),
            (provenance.GetProperty("commit").GetString(), provenance.GetProperty("message").GetString(), provenance.GetProperty("pullRequest").GetProperty("number").GetInt32(),
                provenance.TryGetProperty("commitUrl", out _), provenance.GetProperty("pullRequest").TryGetProperty("url", out _)));
    }

    [Fact]
    public async Task a_broken_commit_keeps_the_last_good_version_serving_and_shows_its_errors()
    {
        var (_, before) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet");
        var broken = await _remote.CommitAsync("Break greet", new Dictionary<string, string?> { ["runbooks/greet.csx"] = Runbook("greet", "v2", "undefinedName();") });
        await PushHookAsync(broken, "refs/heads/main");

        var after = await UntilAsync(async () => (await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet")).Body, b => b.TryGetProperty("failingVersion", out _));
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));

        Assert.True(after.GetProperty("valid").GetBoolean());
        Assert.Equal(before.GetProperty("version").GetString(), after.GetProperty("version").GetString());
        var failing = after.GetProperty("failingVersion");
        Assert.Equal(broken, failing.GetProperty("commit").GetString());
        Assert.Contains(failing.GetProperty("errors").EnumerateArray(), e => e.GetString()!.StartsWith("runbooks/greet.csx:17:", StringComparison.Ordinal) && e.GetString()!.Contains("undefinedName", StringComparison.Ordinal));
        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(before.GetProperty("version").GetString(), run.GetProperty("run").GetProperty("contentHash").GetString());
    }

    [Fact]
    public async Task a_removed_runbook_stops_being_offered_and_its_history_stays()
    {
        var runId = (await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }))).GetProperty("run").GetProperty("id").GetString()!;
        var removal = await _remote.CommitAsync("Remove greet", new Dictionary<string, string?> { ["runbooks/greet.csx"] = null });
        await PushHookAsync(removal, "refs/heads/main");

        await UntilAsync(async () => (await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet")).Status == 404);
        var (triggerStatus, _) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/greet/runs", new { parameters = new { } });
        var (runStatus, _) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");
        var (versionsStatus, versions) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet/versions");

        Assert.Equal(404, triggerStatus);
        Assert.Equal(200, runStatus);
        Assert.Equal(200, versionsStatus);
        Assert.NotEmpty(versions.EnumerateArray());
    }

    [Fact]
    public async Task a_run_in_flight_during_a_swap_finishes_on_the_version_it_started_with()
    {
        var hold = Path.Combine(Directory.CreateTempSubdirectory("runbook-swap-").FullName, "release");
        var runId = await Http.TriggerAsync("greet", new { hold });
        var (_, queued) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");
        var v2 = await _remote.CommitAsync("greet v2", new Dictionary<string, string?> { ["runbooks/greet.csx"] = Runbook("greet", "v2") });
        await PushHookAsync(v2, "refs/heads/main");
        await UntilAsync(async () => (await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet")).Body, b => b.GetProperty("commit").GetString() == v2);

        File.WriteAllText(hold, "go");
        var run = await Http.EndedRunAsync(runId);
        var after = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));

        Assert.Equal("Succeeded", run.Status());
        Assert.Contains("hello from v1", run.Steps().Single().Output, StringComparison.Ordinal);
        Assert.Equal(queued.GetProperty("run").GetProperty("contentHash").GetString(), run.GetProperty("run").GetProperty("contentHash").GetString());
        Assert.Contains("hello from v2", after.Steps().Single().Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_push_webhook_refuses_bad_signatures_and_ignores_other_branches_deletions_and_replays()
    {
        var fixture = GitHubDeliveries.Fixture("push-new-branch-with-commit.json");
        var ping = GitHubDeliveries.Fixture("ping.json");

        var unsigned = await PostGitHubAsync("push", fixture, signature: null);
        var wrong = await PostGitHubAsync("push", fixture, "sha256=" + new string('0', 64));
        var vector = await PostGitHubAsync("push", fixture, "sha256=6c31baef14c480a62f238ca6fe987c304b808053595f77813ec6fe8a5777ff02");
        var pong = await PostGitHubAsync("ping", ping, Sign(ping));
        var deletion = GitHubDeliveries.Push("refs/heads/main", new string('0', 40), deleted: true);
        var deleted = await PostGitHubAsync("push", deletion, Sign(deletion));
        var tag = GitHubDeliveries.Push("refs/tags/v1.0", "abc");
        var tagged = await PostGitHubAsync("push", tag, Sign(tag));
        var issue = await PostGitHubAsync("issues", ping, Sign(ping));
        var push = GitHubDeliveries.Push("refs/heads/main", "abc");
        var first = await PostGitHubAsync("push", push, Sign(push), delivery: "delivery-1");
        var replay = await PostGitHubAsync("push", push, Sign(push), delivery: "delivery-1");

        Assert.Equal((401, 403), (unsigned.Status, wrong.Status));
        Assert.Equal(200, vector.Status);
        Assert.Contains("refs/heads/master", vector.Body.GetProperty("ignored").GetString(), StringComparison.Ordinal);
        Assert.Equal(200, pong.Status);
        Assert.True(pong.Body.GetProperty("pong").GetBoolean());
        Assert.Equal(200, deleted.Status);
        Assert.Equal("the branch was deleted", deleted.Body.GetProperty("ignored").GetString());
        Assert.Equal(200, tagged.Status);
        Assert.Contains("refs/tags/v1.0", tagged.Body.GetProperty("ignored").GetString(), StringComparison.Ordinal);
        Assert.Equal(200, issue.Status);
        Assert.Equal("event 'issues'", issue.Body.GetProperty("ignored").GetString());
        Assert.Equal(202, first.Status);
        Assert.Equal("abc", first.Body.GetProperty("fetching").GetString());
        Assert.Equal(200, replay.Status);
        Assert.Contains("already handled", replay.Body.GetProperty("ignored").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_push_webhook_accepts_only_a_sha256_signature_of_the_exact_body_under_its_secret()
    {
        const string Vector = "sha256=6c31baef14c480a62f238ca6fe987c304b808053595f77813ec6fe8a5777ff02";
        var fixture = GitHubDeliveries.Fixture("push-new-branch-with-commit.json");
        var crlf = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(fixture).Replace("\n", "\r\n", StringComparison.Ordinal));

        var statuses = new List<(string Case, int Status)>();
        foreach (var (name, body, signature) in new (string, byte[], string)[]
        {
            ("legacy sha1", fixture, "sha1=e6773eb8a0910de6826e9d720169388f7f315fe2"),
            ("no prefix", fixture, Vector["sha256=".Length..]),
            ("sha512 prefix", fixture, "sha512=" + Vector["sha256=".Length..]),
            ("prefix only", fixture, "sha256="),
            ("upper-case hex", fixture, "sha256=" + Vector["sha256=".Length..].ToUpperInvariant()),
            ("line endings changed", crlf, Vector),
            ("secret with a trailing space", fixture, GitHubDeliveries.Sign(Secret + " ", fixture)),
            ("another body", GitHubDeliveries.Fixture("ping.json"), Vector),
        })
        {
            statuses.Add((name, (await PostGitHubAsync("push", body, signature)).Status));
        }

        Assert.Equal(
            [("legacy sha1", 401), ("no prefix", 401), ("sha512 prefix", 401), ("prefix only", 401), ("upper-case hex", 200),
             ("line endings changed", 403), ("secret with a trailing space", 403), ("another body", 403)],
            statuses);
    }

    [Fact]
    public async Task a_form_encoded_push_is_read_from_its_payload_field_and_signed_as_sent()
    {
        static byte[] Form(byte[] json) => Encoding.UTF8.GetBytes("payload=" + Uri.EscapeDataString(Encoding.UTF8.GetString(json)));
        var push = Form(GitHubDeliveries.Push("refs/heads/main", "def"));
        var elsewhere = Form(GitHubDeliveries.Push("refs/heads/feature", "def"));

        var accepted = await PostGitHubAsync("push", push, Sign(push), contentType: "application/x-www-form-urlencoded");
        var ignored = await PostGitHubAsync("push", elsewhere, Sign(elsewhere), contentType: "application/x-www-form-urlencoded");
        var signedAsJson = await PostGitHubAsync("push", push, GitHubDeliveries.Sign(Secret, GitHubDeliveries.Push("refs/heads/main", "def")), contentType: "application/x-www-form-urlencoded");

        Assert.Equal(202, accepted.Status);
        Assert.Equal("def", accepted.Body.GetProperty("fetching").GetString());
        Assert.Equal(200, ignored.Status);
        Assert.Contains("refs/heads/feature", ignored.Body.GetProperty("ignored").GetString(), StringComparison.Ordinal);
        Assert.Equal(403, signedAsJson.Status);
    }

    [Fact]
    public async Task a_signed_body_that_is_not_a_push_is_refused()
    {
        var empty = "{}"u8.ToArray();
        var partial = Encoding.UTF8.GetBytes("""{"ref":"refs/heads/main"}""");
        var notJson = "Hello, World!"u8.ToArray();

        var answers = new[]
        {
            await PostGitHubAsync("push", empty, Sign(empty)),
            await PostGitHubAsync("push", partial, Sign(partial)),
            await PostGitHubAsync("push", notJson, Sign(notJson)),
            await PostGitHubAsync("push", "null"u8.ToArray(), Sign("null"u8.ToArray())),
        };

        Assert.All(answers, a => Assert.Equal(400, a.Status));
        Assert.All(answers, a => Assert.StartsWith("not a push payload", a.Body.GetProperty("error").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task the_push_webhook_checks_githubs_documented_vector_and_refuses_everything_without_a_secret()
    {
        // GitHub's documentation vector, through a host holding its secret: the signature passes, so the answer is about the body.
        await _host.RestartAsync(new Dictionary<string, string?> { ["RunbookEngine__Catalog__Git__WebhookSecret"] = "It's a Secret to Everybody" });
        var documented = await PostGitHubAsync("push", "Hello, World!"u8.ToArray(), "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
        var oldSecret = await PostGitHubAsync("push", "Hello, World!"u8.ToArray(), Sign("Hello, World!"u8.ToArray()));

        await _host.RestartAsync(new Dictionary<string, string?> { ["RunbookEngine__Catalog__Git__WebhookSecret"] = null });
        var push = GitHubDeliveries.Push("refs/heads/main", "abc");
        var signed = await PostGitHubAsync("push", push, Sign(push));
        var unsigned = await PostGitHubAsync("push", push, signature: null);
        var ping = await PostGitHubAsync("ping", GitHubDeliveries.Fixture("ping.json"), signature: null);

        Assert.Equal(400, documented.Status);
        Assert.Equal(403, oldSecret.Status);
        Assert.Equal((401, 401, 401), (signed.Status, unsigned.Status, ping.Status));
        Assert.Contains("RunbookEngine:Catalog:Git:WebhookSecret", signed.Body.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_push_webhook_reads_no_body_it_cannot_check_and_no_more_than_the_limit()
    {
        var headers = new Dictionary<string, string> { ["X-GitHub-Event"] = "push", ["X-GitHub-Delivery"] = Guid.NewGuid().ToString() };
        var unsigned = await Http.PostChunkedAsync("/hooks/github", 8L * 1024 * 1024, headers);
        headers["X-Hub-Signature-256"] = "sha1=" + new string('0', 40);
        var malformed = await Http.PostChunkedAsync("/hooks/github", 8L * 1024 * 1024, headers);
        headers["X-Hub-Signature-256"] = "sha256=" + new string('0', 64);
        var tooLarge = await Http.PostChunkedAsync("/hooks/github", 2L * 1024 * 1024, headers);

        Assert.Equal((401, 401), (unsigned.Status, malformed.Status));
        Assert.Equal(413, tooLarge.Status);
    }

    [Fact]
    public async Task a_push_delivery_is_remembered_across_a_restart()
    {
        var push = GitHubDeliveries.Push("refs/heads/main", "abc");
        var first = await PostGitHubAsync("push", push, Sign(push), delivery: "delivery-before-restart");

        await _host.RestartAsync();
        var replay = await PostGitHubAsync("push", push, Sign(push), delivery: "delivery-before-restart");

        Assert.Equal((202, 200), (first.Status, replay.Status));
        Assert.Contains("already handled", replay.Body.GetProperty("ignored").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/api/runbooks/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("/api/runbooks/%2Fetc%2Fpasswd/versions")]
    public async Task names_that_try_to_leave_the_folder_are_not_found(string path) =>
        Assert.Equal(404, (await Http.SendAsync(HttpMethod.Get, path)).Status);

    [Fact]
    public async Task a_load_outside_the_runbook_folder_is_refused_with_the_commit()
    {
        var commit = await _remote.CommitAsync("Escape", new Dictionary<string, string?>
        {
            ["outside.csx"] = "var stolen = 1;\n",
            ["runbooks/escape.csx"] = "// ---\n// description: tries to load a file outside the folder\n// ---\n#load \"../outside.csx\"\nawait Step(\"x\", ct => Task.CompletedTask);\n",
        });
        await PushHookAsync(commit, "refs/heads/main");

        var escape = await UntilAsync(async () => (await Http.SendAsync(HttpMethod.Get, "/api/runbooks/escape")).Body, b => b.ValueKind == JsonValueKind.Object && b.TryGetProperty("valid", out _));

        Assert.False(escape.GetProperty("valid").GetBoolean());
        Assert.Contains(escape.GetProperty("errors").EnumerateArray(), e => e.GetString()!.Contains("points outside the runbook folder", StringComparison.Ordinal));
        Assert.Equal(commit, escape.GetProperty("commit").GetString());
    }

    private static string Sign(byte[] body) => GitHubDeliveries.Sign(Secret, body);

    private Task<(int Status, JsonElement Body)> PushHookAsync(string after, string reference)
    {
        var body = GitHubDeliveries.Push(reference, after);
        return PostGitHubAsync("push", body, Sign(body), delivery: Guid.NewGuid().ToString());
    }

    private async Task<(int Status, JsonElement Body)> PostGitHubAsync(string githubEvent, byte[] body, string? signature, string? delivery = null, string contentType = "application/json")
    {
        var headers = new Dictionary<string, string> { ["X-GitHub-Event"] = githubEvent, ["X-GitHub-Delivery"] = delivery ?? Guid.NewGuid().ToString() };
        if (signature is not null)
        {
            headers["X-Hub-Signature-256"] = signature;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static Task<JsonElement> UntilAsync(Func<Task<bool>> condition) => UntilAsync(async () => await condition() ? JsonDocument.Parse("true").RootElement : default, r => r.ValueKind == JsonValueKind.True);

    private static async Task<JsonElement> UntilAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(2);
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"never reached the expected state; last: {value}");
            await tick.WaitForNextTickAsync();
        }
    }
}
