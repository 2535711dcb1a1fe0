using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Catalog;
using RunbookEngine.GitHub;
using RunbookEngine.Scripting;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.GitHub;

/// <summary>
/// The check runs a catalog sync produces, as a fake GitHub API on loopback receives them: a real catalog loading
/// runbooks from a repository's subfolder, compiled for real, and Octokit talking HTTP to the fake.
/// </summary>
public sealed class GitHubChecksTests : IAsyncLifetime
{
    private const string Good = """
        // ---
        // description: Works
        // ---
        await Step("ok", ct => Task.CompletedTask);
        """;

    private const string CompileError = """
        // ---
        // description: Calls what does not exist
        // ---
        await Step("ok", ct => Task.CompletedTask);
        undefinedName();
        """;

    private const string FrontMatterError = """
        // ---
        // description: Never closed
        await Step("ok", ct => Task.CompletedTask);
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-checks-").FullName;
    private readonly RecordingLogger _log = new();
    private FakeGitHubApi _api = null!;
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;
    private RunbookCatalog _catalog = null!;
    private RepositorySource _source = null!;
    private GitHubChecks? _checks;

    private string Runbooks => Path.Combine(_source.Repository, "ops", "runbooks");

    public async Task InitializeAsync()
    {
        _api = FakeGitHubApi.Start();
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), TimeProvider.System);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(_folder, "data", "compiled"));
        _source = new RepositorySource(Path.Combine(_folder, "repo"), "ops/runbooks");
        Directory.CreateDirectory(Runbooks);
        _catalog = new RunbookCatalog(_source, _compiler, _store, Path.Combine(_folder, "data"), TimeProvider.System, NullLogger<RunbookCatalog>.Instance);
    }

    public async Task DisposeAsync()
    {
        if (_checks is not null)
        {
            await _checks.StopAsync(CancellationToken.None);
            _checks.Dispose();
        }

        _catalog.Dispose();
        _compiler.Dispose();
        await _store.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task a_broken_commit_gets_a_failed_check_with_an_annotation_at_each_errors_file_and_line()
    {
        var checks = await StartAsync();
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "good.csx"), Good);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "calls.csx"), CompileError);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "unclosed.csx"), FrontMatterError);
        var change = await SyncAtAsync("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");

        checks.Report(change, _catalog.Entries);
        var requests = await _api.UntilAsync(r => r.Any(IsCreate), "no check run was created");

        var list = requests[0];
        Assert.Equal(("GET", "/repos/acme/runbooks/commits/a1b2c3d4e5f60718293a4b5c6d7e8f9012345678/check-runs"), (list.Method, list.Path));
        Assert.Contains("check_name=runbooks", list.Query, StringComparison.Ordinal);
        var create = requests.Single(IsCreate);
        Assert.Equal("Token ghp_test-token", create.Authorization);
        var body = create.Body!.Value;
        Assert.Equal(("runbooks", "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678", "completed", "failure"),
            (body.GetProperty("name").GetString(), body.GetProperty("head_sha").GetString(), body.GetProperty("status").GetString(), body.GetProperty("conclusion").GetString()));
        var annotations = body.GetProperty("output").GetProperty("annotations").EnumerateArray().ToList();
        Assert.Contains(annotations, a => a.GetProperty("path").GetString() == "ops/runbooks/calls.csx" && a.GetProperty("start_line").GetInt32() == 5
            && a.GetProperty("end_line").GetInt32() == 5 && a.GetProperty("annotation_level").GetString() == "failure"
            && a.GetProperty("message").GetString()!.Contains("undefinedName", StringComparison.Ordinal));
        Assert.Contains(annotations, a => a.GetProperty("path").GetString() == "ops/runbooks/unclosed.csx" && a.GetProperty("start_line").GetInt32() == 1
            && a.GetProperty("message").GetString()!.Contains("front matter", StringComparison.Ordinal));
        Assert.DoesNotContain(annotations, a => a.GetProperty("path").GetString()!.Contains("good", StringComparison.Ordinal));
        var summary = body.GetProperty("output").GetProperty("summary").GetString()!;
        Assert.Contains("Not served (no version compiles): `calls`, `unclosed`", summary, StringComparison.Ordinal);
        Assert.Equal("2 of 3 runbooks do not compile", body.GetProperty("output").GetProperty("title").GetString());
    }

    [Fact]
    public void A_pull_requests_check_counts_its_cases_and_annotates_each_failure_at_its_case_file_and_line()
    {
        var cases = new CaseRunReport(
        [
            new CaseOutcome("tests/greet/says-hello.yaml", "greet", "says-hello", []),
            new CaseOutcome("tests/greet/disk-full.yaml", "greet", "disk-full", [new CaseFailure("status: expected Succeeded, the run ended Failed (no disk)", 7), new CaseFailure("step 2: expected 'rotate'", 9)]),
        ]);

        var report = GitHubChecks.BuildPullRequest(4, Validation(), null, cases);

        Assert.Equal(Octokit.CheckConclusion.Failure, report.Conclusion);
        Assert.Equal("All 0 runbooks compile; 2 cases, 1 failed", report.Title);
        Assert.Equal(
            [("ops/runbooks/tests/greet/disk-full.yaml", 7, "status: expected Succeeded, the run ended Failed (no disk)"), ("ops/runbooks/tests/greet/disk-full.yaml", 9, "step 2: expected 'rotate'")],
            report.Annotations.Select(a => (a.Path, a.StartLine, a.Message)));
        Assert.All(report.Annotations, a => Assert.Equal("greet: case disk-full failed", a.Title));
        Assert.Contains("Test cases: 2 cases, 1 failed.", report.Summary, StringComparison.Ordinal);
        Assert.Contains("- `ops/runbooks/tests/greet/disk-full.yaml:7`: status: expected Succeeded", report.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pull_requests_check_says_why_its_cases_did_not_run_or_that_it_has_none_and_passes_on_its_compiles()
    {
        var skipped = GitHubChecks.BuildPullRequest(4, Validation(), null, CaseRunReport.NotRun("RunbookEngine:GitHub:TestCases is Off"));
        var none = GitHubChecks.BuildPullRequest(4, Validation(), null, new CaseRunReport([]));

        Assert.Equal((Octokit.CheckConclusion.Success, "All 0 runbooks compile"), (skipped.Conclusion, skipped.Title));
        Assert.Contains("Test cases: not run: RunbookEngine:GitHub:TestCases is Off.", skipped.Summary, StringComparison.Ordinal);
        Assert.Equal((Octokit.CheckConclusion.Success, "All 0 runbooks compile"), (none.Conclusion, none.Title));
        Assert.Contains("Test cases: none at this commit", none.Summary, StringComparison.Ordinal);
        Assert.Empty(skipped.Annotations);
        Assert.Empty(none.Annotations);
    }

    [Fact]
    public void A_pull_requests_check_posts_at_most_a_hundred_and_fifty_annotations_each_cut_to_a_few_kilobytes_and_counts_the_rest()
    {
        var failures = Enumerable.Range(1, 160).Select(i => new CaseFailure($"difference {i}: " + new string('x', 10_000), i)).ToList();
        var cases = new CaseRunReport([new CaseOutcome("tests/greet/noisy.yaml", "greet", "noisy", failures)]);

        var report = GitHubChecks.BuildPullRequest(4, Validation(), null, cases);

        Assert.Equal(GitHubChecks.MaxAnnotations, report.Annotations.Count);
        Assert.All(report.Annotations, a => Assert.True(a.Message.Length <= GitHubChecks.MaxAnnotationMessage + " (cut short)".Length, $"{a.Message.Length} characters"));
        Assert.EndsWith("(cut short)", report.Annotations[0].Message, StringComparison.Ordinal);
        Assert.EndsWith("10 more annotations not posted (at most 150).", report.Summary, StringComparison.Ordinal);
        Assert.True(report.Summary.Length < 65_535, $"{report.Summary.Length} characters");
        Assert.Equal(Octokit.CheckConclusion.Failure, report.Conclusion);
    }

    [Fact]
    public void A_case_path_outside_the_cases_folder_gets_no_annotation_but_still_fails_the_check()
    {
        var cases = new CaseRunReport(
            [new CaseOutcome("tests/../../../etc/passwd", "greet", "escapes", [new CaseFailure("status: expected Succeeded", 3)])],
            "the test cases did not finish",
            Unfinished: "../outside.yaml");

        var report = GitHubChecks.BuildPullRequest(4, Validation(), null, cases);

        Assert.Empty(report.Annotations);
        Assert.Equal(Octokit.CheckConclusion.Failure, report.Conclusion);
        Assert.Contains("(a path outside the cases folder)", report.Summary, StringComparison.Ordinal);
        Assert.DoesNotContain("etc/passwd", report.Summary, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("tests/greet/says-hello.yaml", true)]
    [InlineData("tests/../greet.csx", false)]
    [InlineData("../tests/greet/x.yaml", false)]
    [InlineData("/etc/passwd", false)]
    [InlineData("tests/greet/./x.yaml", false)]
    [InlineData("tests", false)]
    [InlineData("greet/x.yaml", false)]
    public void A_case_path_is_one_only_inside_the_cases_folder(string path, bool isCase) =>
        Assert.Equal(isCase, CaseProcess.IsCasePath(path));

    private static CommitValidation Validation()
    {
        var commit = new string('4', 40);
        var repository = Path.Combine(Path.GetTempPath(), "pull-4");
        return new CommitValidation(new CatalogRevision(Path.Combine(repository, "ops", "runbooks"), commit, RepositoryRoot: repository), [], CatalogChange.None(commit, null));
    }

    [Fact]
    public async Task a_good_commit_gets_a_successful_check_naming_what_changed_and_what_keeps_serving()
    {
        var checks = await StartAsync();
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "good.csx"), Good);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "later.csx"), Good);
        checks.Report(await SyncAtAsync(new string('1', 40)), _catalog.Entries);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "fresh.csx"), Good);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "later.csx"), CompileError);
        checks.Report(await SyncAtAsync(new string('2', 40)), _catalog.Entries);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "later.csx"), Good.Replace("Works", "Works again", StringComparison.Ordinal));
        checks.Report(await SyncAtAsync(new string('3', 40)), _catalog.Entries);

        var requests = await _api.UntilAsync(r => r.Count(IsCreate) == 3, "three check runs were not created");

        var creates = requests.Where(IsCreate).Select(r => r.Body!.Value).ToList();
        Assert.Equal(["success", "failure", "success"], creates.Select(b => b.GetProperty("conclusion").GetString()));
        var second = creates[1].GetProperty("output").GetProperty("summary").GetString()!;
        Assert.Contains("Added: `fresh`", second, StringComparison.Ordinal);
        Assert.Contains("Changed: `later`", second, StringComparison.Ordinal);
        Assert.Contains("Keep serving their last good version: `later`", second, StringComparison.Ordinal);
        var third = creates[2].GetProperty("output");
        Assert.Contains("Changed: `later`", third.GetProperty("summary").GetString()!, StringComparison.Ordinal);
        Assert.Equal("All 3 runbooks compile", third.GetProperty("title").GetString());
        Assert.Empty(third.GetProperty("annotations").EnumerateArray());
    }

    [Fact]
    public async Task more_than_fifty_errors_go_fifty_a_request_onto_the_same_check_run()
    {
        var checks = await StartAsync();
        var commit = new string('c', 40);
        IReadOnlyList<RunbookDiagnostic> errors = [.. Enumerable.Range(1, 120).Select(n => RunbookDiagnostic.Error("ops/runbooks/big.csx", n, "CS0103", $"error {n}"))];

        checks.Report(new CatalogChange(commit, ["big"], [], [], ["big"], null), [new CatalogEntry("big", null, "hash", null, errors, commit)]);
        var requests = await _api.UntilAsync(r => r.Count(q => q.Method == "PATCH") == 2, "the remaining annotations were not sent");

        var create = requests.Single(IsCreate);
        var patches = requests.Where(q => q.Method == "PATCH").ToList();
        Assert.All(patches, p => Assert.Equal("/repos/acme/runbooks/check-runs/4001", p.Path));
        Assert.Equal([50, 50, 20], new[] { create }.Concat(patches).Select(r => r.Body!.Value.GetProperty("output").GetProperty("annotations").GetArrayLength()));
        Assert.Equal(120, new[] { create }.Concat(patches).SelectMany(r => r.Body!.Value.GetProperty("output").GetProperty("annotations").EnumerateArray())
            .Select(a => a.GetProperty("start_line").GetInt32()).Distinct().Count());
    }

    [Fact]
    public async Task a_github_app_signs_its_jwt_with_its_key_and_refreshes_the_installation_token_before_it_expires()
    {
        using var key = RSA.Create(2048);
        var pem = Path.Combine(_folder, "app.pem");
        await File.WriteAllTextAsync(pem, key.ExportPkcs8PrivateKeyPem());
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-12-05T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
        _api.Time = time;
        var checks = await StartAsync(o => { o.Token = null; o.AppId = 123456; o.PrivateKeyPath = pem; o.InstallationId = 987; }, time);
        var entries = new List<CatalogEntry>();

        checks.Report(new CatalogChange(new string('a', 40), [], [], [], [], null), entries);
        await _api.UntilAsync(r => r.Count(IsCreate) == 1, "no first check");
        time.Advance(TimeSpan.FromMinutes(54));
        checks.Report(new CatalogChange(new string('b', 40), [], [], [], [], null), entries);
        await _api.UntilAsync(r => r.Count(IsCreate) == 2, "no second check");
        time.Advance(TimeSpan.FromMinutes(2));
        checks.Report(new CatalogChange(new string('c', 40), [], [], [], [], null), entries);
        var requests = await _api.UntilAsync(r => r.Count(IsCreate) == 3, "no third check");

        var tokens = requests.Where(r => r.Path == "/app/installations/987/access_tokens").ToList();
        Assert.Equal(2, tokens.Count);
        Assert.All(tokens, t => Assert.Equal("POST", t.Method));
        Assert.Equal(["Token ghs_fake1", "Token ghs_fake1", "Token ghs_fake2"], requests.Where(IsCreate).Select(r => r.Authorization));
        Assert.All(requests.Where(r => !r.Path.StartsWith("/app/", StringComparison.Ordinal)), r => Assert.StartsWith("Token ghs_fake", r.Authorization, StringComparison.Ordinal));
        for (var i = 0; i < tokens.Count; i++)
        {
            Assert.StartsWith("Bearer ", tokens[i].Authorization, StringComparison.Ordinal);
            var parts = tokens[i].Authorization["Bearer ".Length..].Split('.');
            Assert.True(key.VerifyData(Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"), Base64Url(parts[2]), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), "the JWT is not signed by the App's key");
            var header = JsonSerializer.Deserialize<JsonElement>(Base64Url(parts[0]));
            var claims = JsonSerializer.Deserialize<JsonElement>(Base64Url(parts[1]));
            var now = (i == 0 ? DateTimeOffset.Parse("2026-12-05T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture) : time.GetUtcNow()).ToUnixTimeSeconds();
            Assert.Equal("RS256", header.GetProperty("alg").GetString());
            Assert.Equal(("123456", now - 60, now + 540), (claims.GetProperty("iss").GetString(), claims.GetProperty("iat").GetInt64(), claims.GetProperty("exp").GetInt64()));
        }
    }

    [Fact]
    public async Task nothing_is_posted_without_a_repository()
    {
        var checks = await StartAsync(o => o.Repository = null);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "calls.csx"), CompileError);

        // Report decides at once, before anything is queued: with no repository there is nothing to wait for.
        checks.Report(await SyncAtAsync(new string('d', 40)), _catalog.Entries);

        Assert.False(checks.IsEnabled);
        Assert.Empty(_api.Requests);
    }

    [Fact]
    public async Task a_commit_another_node_has_checked_is_not_checked_again()
    {
        var checks = await StartAsync();
        _api.AlreadyChecked.Add(new string('e', 40));

        checks.Report(new CatalogChange(new string('e', 40), [], [], [], [], null), []);
        checks.Report(new CatalogChange(new string('f', 40), [], [], [], [], null), []);
        var requests = await _api.UntilAsync(r => r.Count(IsCreate) == 1, "the unchecked commit was not checked");

        Assert.Equal(new string('f', 40), requests.Single(IsCreate).Body!.Value.GetProperty("head_sha").GetString());
        Assert.Equal(2, requests.Count(r => r.Method == "GET"));
    }

    [Fact]
    public async Task two_nodes_that_fetched_the_same_commit_at_once_post_one_check_between_them()
    {
        var first = await StartAsync();
        await using var otherStore = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), TimeProvider.System);
        using var second = new GitHubChecks(Options.Create(Settings()), otherStore, new NodeIdentity("node-b"), TimeProvider.System, _log) { RetryDelays = [TimeSpan.Zero] };
        await second.StartAsync(CancellationToken.None);
        var commit = new string('5', 40);

        // The fake lists no check run on the commit to either node, as GitHub did to two nodes asking within a request's length.
        try
        {
            first.Report(new CatalogChange(commit, [], [], [], [], null), []);
            second.Report(new CatalogChange(commit, [], [], [], [], null), []);
            await _api.UntilAsync(r => r.Any(IsCreate), "no check run was created");
            await UntilAsync(() => _log.Messages.Any(m => m.Contains("another node's to post", StringComparison.Ordinal)));
        }
        finally
        {
            await second.StopAsync(CancellationToken.None);
        }

        Assert.Single(_api.Requests, IsCreate);
        Assert.Single(_api.Requests, r => r.Method == "GET");
        Assert.Contains(commit, Assert.Single(_log.Messages, m => m.Contains("another node's to post", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_check_given_up_on_is_posted_by_a_later_report_of_the_same_commit()
    {
        var checks = await StartAsync();
        var commit = new string('4', 40);
        _api.FailWith = 500;
        checks.Report(new CatalogChange(commit, [], [], [], [], null), []);
        await UntilAsync(() => _log.Warnings.Count > 0);

        // A node's first load reports the commit again (a restart); with the claim given up, it is this node's to post.
        _api.FailWith = null;
        checks.Report(new CatalogChange(new string('3', 40), [], [], [], [], null), []);
        checks.Report(new CatalogChange(commit, [], [], [], [], null), [], firstLoad: true);
        var requests = await _api.UntilAsync(r => r.Count(IsCreate) == 2, "the commit given up on was not posted again");

        Assert.Equal([new string('3', 40), commit], requests.Where(IsCreate).Select(r => r.Body!.Value.GetProperty("head_sha").GetString()));
    }

    [Fact]
    public async Task an_outage_is_retried_a_bounded_number_of_times_and_logged_once()
    {
        var checks = await StartAsync();
        _api.FailWith = 500;
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "good.csx"), Good);

        checks.Report(await SyncAtAsync(new string('9', 40)), _catalog.Entries);
        await _api.UntilAsync(r => r.Count >= 3, "the API was not retried");
        await UntilAsync(() => _log.Warnings.Count > 0);

        // Reports are posted one after another: once the next commit's check arrives, the outage's tries are over.
        var next = new string('6', 40);
        bool ForNext(GitHubRequest r) => r.Path.Contains(next, StringComparison.Ordinal) || (IsCreate(r) && r.Body?.GetProperty("head_sha").GetString() == next);
        _api.FailWith = null;
        checks.Report(new CatalogChange(next, [], [], [], [], null), _catalog.Entries);
        await _api.UntilAsync(r => r.Any(c => IsCreate(c) && ForNext(c)), "the next commit was not posted");

        Assert.Equal(3, _api.Requests.Count(r => !ForNext(r)));
        var warning = Assert.Single(_log.Warnings);
        Assert.Contains(new string('9', 40), warning, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_test-token", warning, StringComparison.Ordinal);
        Assert.True(_catalog.Find("good")!.IsValid);
    }

    [Fact]
    public async Task an_api_nobody_listens_on_is_logged_once_and_the_next_commit_is_still_tried()
    {
        var checks = await StartAsync(o => o.ApiUrl = $"http://127.0.0.1:{Loopback.FreePort()}/");

        checks.Report(new CatalogChange(new string('8', 40), [], [], [], [], null), []);
        await UntilAsync(() => _log.Warnings.Count > 0);
        checks.Report(new CatalogChange(new string('7', 40), [], [], [], [], null), []);
        await UntilAsync(() => _log.Warnings.Count > 1);

        // One warning a commit, in order: a second one for the first commit would take the second's place.
        Assert.Contains(new string('8', 40), _log.Warnings[0], StringComparison.Ordinal);
        Assert.Contains(new string('7', 40), _log.Warnings[1], StringComparison.Ordinal);
    }

    private static bool IsCreate(GitHubRequest request) => request.Method == "POST" && request.Path == "/repos/acme/runbooks/check-runs";

    private RunbookEngineOptions Settings()
    {
        var options = new RunbookEngineOptions();
        options.GitHub.ApiUrl = _api.Address.ToString();
        options.GitHub.Repository = "acme/runbooks";
        options.GitHub.Token = "ghp_test-token";
        return options;
    }

    private async Task<GitHubChecks> StartAsync(Action<GitHubOptions>? configure = null, TimeProvider? time = null)
    {
        var options = Settings();
        configure?.Invoke(options.GitHub);
        // No wait between tries: a wait on a test's fake clock would never end, so one slow answer on a busy machine
        // would hang the test instead of being retried.
        _checks = new GitHubChecks(Options.Create(options), _store, new NodeIdentity("node-a"), time ?? TimeProvider.System, _log) { RetryDelays = [TimeSpan.Zero, TimeSpan.Zero] };
        await _checks.StartAsync(CancellationToken.None);
        return _checks;
    }

    private async Task<CatalogChange> SyncAtAsync(string commit)
    {
        _source.Commit = commit;
        return await _catalog.SyncAsync(CancellationToken.None);
    }

    private static async Task UntilAsync(Func<bool> condition)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromSeconds(30), "timed out");
            await tick.WaitForNextTickAsync();
        }
    }

    private static byte[] Base64Url(string text)
    {
        var padded = text.Replace('-', '+').Replace('_', '/');
        return Convert.FromBase64String(padded.PadRight(padded.Length + ((4 - (padded.Length % 4)) % 4), '='));
    }

    /// <summary>A clone's work tree as <see cref="GitRemoteSource"/> hands it over: a subfolder of runbooks at a commit.</summary>
    private sealed class RepositorySource(string repository, string subfolder) : IRunbookSourceProvider
    {
        public string Repository { get; } = Path.GetFullPath(repository);

        public string Commit { get; set; } = new string('0', 40);

        public string Kind => "git";

        public string Description => Repository;

        public Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new CatalogRevision(Path.Combine(Repository, subfolder), Commit, "Ada <ada@example.com>", DateTimeOffset.UnixEpoch, "change", Repository));

        public Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken) => Task.FromResult<CatalogRevision?>(null);
    }

    private sealed class RecordingLogger : ILogger<GitHubChecks>
    {
        private readonly List<string> _warnings = [];
        private readonly List<string> _messages = [];

        public List<string> Messages
        {
            get
            {
                lock (_warnings)
                {
                    return [.. _messages];
                }
            }
        }

        public List<string> Warnings
        {
            get
            {
                lock (_warnings)
                {
                    return [.. _warnings];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_warnings)
            {
                _messages.Add(formatter(state, exception));
                if (logLevel >= LogLevel.Warning)
                {
                    _warnings.Add(formatter(state, exception));
                }
            }
        }
    }
}
