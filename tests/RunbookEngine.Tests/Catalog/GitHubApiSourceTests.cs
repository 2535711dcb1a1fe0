using System.Formats.Tar;
using System.IO.Compression;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Catalog;
using RunbookEngine.GitHub;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Catalog;

/// <summary>
/// The <c>github</c> catalog source against a fake GitHub API on loopback: a real catalog following a branch's subfolder
/// through Octokit (commit, then tarball), compiling for real, on a fake clock that the API's rate limit is judged by too.
/// </summary>
public sealed class GitHubApiSourceTests : IAsyncLifetime
{
    private const string Greet = "ops/runbooks/greet.csx";

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-github-source-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-05T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RecordingLog _log = new();
    private FakeGitHubApi _api = null!;
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;
    private RunbookCatalog _catalog = null!;

    private string Data => Path.Combine(_folder, "data");

    public async Task InitializeAsync()
    {
        _api = FakeGitHubApi.Start();
        _api.Time = _time;
        _store = SqlRunStore.Sqlite(Path.Combine(Data, "runs.db"), TimeProvider.System);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(Data, "compiled"));
        var github = new GitHubOptions { ApiUrl = _api.Address.ToString(), Repository = "acme/runbooks", Token = "ghp_source-token" };
        var source = new GitHubApiSource(github, new GitCatalogOptions { Branch = "main", Path = "ops/runbooks" }, Data, _time, _log.For<GitHubApiSource>())
        {
            OutageBackoff = TimeSpan.FromSeconds(30),
            MaxOutageBackoff = TimeSpan.FromMinutes(10),
        };
        _catalog = new RunbookCatalog(source, _compiler, _store, Data, TimeProvider.System, _log.For<RunbookCatalog>());
    }

    public async Task DisposeAsync()
    {
        _catalog.Dispose();
        _compiler.Dispose();
        await _store.DisposeAsync();
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
    public async Task a_commit_of_the_branch_is_followed_through_the_api_and_served_without_git()
    {
        var first = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1"), ["README.md"] = "# runbooks" }, "First runbooks");
        await _catalog.LoadAsync(CancellationToken.None);
        var loaded = _catalog.Revision!;
        var second = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2"), ["ops/runbooks/more.csx"] = Runbook("more") }, "Second runbooks\n\nWith a body");

        var change = await _catalog.SyncAsync(CancellationToken.None);

        Assert.Equal((first, "Ada Lovelace <ada@example.com>", "First runbooks"), (loaded.Commit, loaded.Author, loaded.Message));
        Assert.Equal(Path.Combine(loaded.RepositoryRoot!, "ops", "runbooks"), loaded.Root);
        Assert.Equal((second, null), (change.Commit, change.Error));
        Assert.Equal(["more"], change.Added);
        Assert.Equal(["greet"], change.Updated);
        Assert.Equal("Second runbooks", _catalog.Revision!.Message);
        Assert.True(_catalog.Find("greet")!.IsValid);
        Assert.Equal(second, _catalog.Find("greet")!.Commit);
        Assert.Equal("github", _catalog.SourceKind);
        var requests = _api.Requests;
        Assert.Equal(
            [
                "GET /repos/acme/runbooks/commits/main", $"GET /repos/acme/runbooks/tarball/{first}", $"GET /repos/acme/runbooks/commits/{first}/pulls",
                "GET /repos/acme/runbooks/commits/main", $"GET /repos/acme/runbooks/tarball/{second}", $"GET /repos/acme/runbooks/commits/{second}/pulls",
            ],
            requests.Select(r => $"{r.Method} {r.Path}"));
        Assert.All(requests, r => Assert.Equal("Token ghp_source-token", r.Authorization));
    }

    [Fact]
    public async Task a_broken_commit_keeps_the_last_good_version_serving_with_the_new_errors_beside_it()
    {
        _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await _catalog.LoadAsync(CancellationToken.None);
        var served = _catalog.Find("greet")!.ContentHash;
        var broken = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2", "undefinedName();") }, "Break greet");

        var change = await _catalog.SyncAsync(CancellationToken.None);

        var entry = _catalog.Find("greet")!;
        Assert.Equal(broken, change.Commit);
        Assert.Equal(["greet"], change.Failed);
        Assert.True(entry.IsValid);
        Assert.Equal(served, entry.ContentHash);
        Assert.Equal(broken, entry.Problem!.Commit);
        var error = Assert.Single(entry.Problem.Diagnostics, d => d.IsError);
        Assert.Equal((Greet, 5), (error.File, error.Line));
    }

    [Fact]
    public async Task a_poll_that_finds_no_new_commit_is_a_conditional_request_answered_304_and_fetches_nothing()
    {
        var commit = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await _catalog.LoadAsync(CancellationToken.None);

        var change = await _catalog.SyncAsync(CancellationToken.None);

        var polls = _api.Requests.Where(r => r.Path == "/repos/acme/runbooks/commits/main").ToList();
        Assert.Equal(2, polls.Count);
        Assert.Equal((null, 200), (polls[0].IfNoneMatch, polls[0].Status));
        Assert.Equal(($"W/\"{commit}\"", 304), (polls[1].IfNoneMatch, polls[1].Status));
        Assert.Single(_api.Requests, r => r.Path.Contains("/tarball/", StringComparison.Ordinal));
        Assert.Equal((commit, false, null), (change.Commit, change.Changed, change.Error));
    }

    [Fact]
    public async Task a_rate_limit_answer_pauses_the_source_until_the_reset_it_names_logs_once_and_then_resumes()
    {
        _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await _catalog.LoadAsync(CancellationToken.None);
        var served = _catalog.Revision!.Commit;
        var next = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2") }, "Next");
        _api.RateLimitedUntil = _time.GetUtcNow().AddMinutes(10);

        var refused = await _catalog.SyncAsync(CancellationToken.None);
        var asked = _api.Requests.Count;
        _time.Advance(TimeSpan.FromMinutes(5));
        var waiting = await _catalog.SyncAsync(CancellationToken.None);
        var askedWhileWaiting = _api.Requests.Count - asked;
        _time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1));
        var resumed = await _catalog.SyncAsync(CancellationToken.None);

        Assert.Equal(403, _api.Requests[asked - 1].Status);
        Assert.Contains("rate limit", refused.Error, StringComparison.Ordinal);
        Assert.Contains("2026-12-05 08:10:00 UTC", refused.Error, StringComparison.Ordinal);
        Assert.Equal(served, refused.Commit);
        Assert.Equal(0, askedWhileWaiting);
        Assert.Contains("asked again after 2026-12-05 08:10:00 UTC", waiting.Error, StringComparison.Ordinal);
        Assert.Equal((next, null), (resumed.Commit, resumed.Error));
        Assert.True(_catalog.Find("greet")!.IsValid);
        var warning = Assert.Single(_log.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(630, warning.EventId);
        Assert.Contains(_log.Entries, e => e.EventId == 632);
    }

    [Fact]
    public async Task an_outage_keeps_the_last_good_version_serving_and_is_retried_after_a_doubling_wait()
    {
        _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await _catalog.LoadAsync(CancellationToken.None);
        var served = _catalog.Revision!.Commit;
        var next = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2") }, "Next");
        _api.FailWith = 500;

        // Tried at once, then after 30 s, then after 60 s more: each line is (whether the API was asked, the sync's error).
        var tries = new List<bool>();
        async Task<CatalogChange> SyncAfterAsync(TimeSpan wait)
        {
            _time.Advance(wait);
            var before = _api.Requests.Count;
            var change = await _catalog.SyncAsync(CancellationToken.None);
            tries.Add(_api.Requests.Count > before);
            return change;
        }

        var first = await SyncAfterAsync(TimeSpan.Zero);
        await SyncAfterAsync(TimeSpan.FromSeconds(10));
        await SyncAfterAsync(TimeSpan.FromSeconds(20));
        await SyncAfterAsync(TimeSpan.FromSeconds(30));
        await SyncAfterAsync(TimeSpan.FromSeconds(30));
        _api.FailWith = null;
        await SyncAfterAsync(TimeSpan.FromSeconds(30));
        var resumed = await SyncAfterAsync(TimeSpan.FromSeconds(90));

        Assert.Equal([true, false, true, false, true, false, true], tries);
        Assert.Contains("unavailable (it answered 500)", first.Error, StringComparison.Ordinal);
        Assert.Equal(served, first.Commit);
        Assert.Equal((next, null), (resumed.Commit, resumed.Error));
        var warning = Assert.Single(_log.Entries, e => e.Level >= LogLevel.Warning);
        Assert.Equal(631, warning.EventId);
        Assert.Contains(served!, warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ghp_source-token", string.Join("\n", _log.Entries.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_tarball_whose_body_stalls_past_the_download_deadline_is_an_outage_and_the_last_good_commit_keeps_serving()
    {
        var github = new GitHubOptions { ApiUrl = _api.Address.ToString(), Repository = "acme/runbooks", Token = "ghp_source-token" };
        var source = new GitHubApiSource(github, new GitCatalogOptions { Branch = "main", Path = "ops/runbooks" }, Path.Combine(_folder, "stalled"), _time, _log.For<GitHubApiSource>())
        {
            ArchiveDeadline = TimeSpan.FromSeconds(3),
        };
        using var catalog = new RunbookCatalog(source, _compiler, _store, Path.Combine(_folder, "stalled"), TimeProvider.System, _log.For<RunbookCatalog>());
        _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await catalog.LoadAsync(CancellationToken.None);
        var served = catalog.Revision!.Commit;
        _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2") }, "Next");
        var stall = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _api.StallTarballs = stall;
        CatalogChange change;
        try
        {
            change = await catalog.SyncAsync(CancellationToken.None);
        }
        finally
        {
            stall.TrySetResult();
        }

        Assert.Contains("the GitHub API is unavailable (TimeoutException: the archive of", change.Error, StringComparison.Ordinal);
        Assert.Contains("did not arrive within 3s", change.Error, StringComparison.Ordinal);
        Assert.Equal(served, change.Commit);
        Assert.Equal(served, catalog.Revision!.Commit);
    }

    [Fact]
    public async Task a_pull_requests_head_is_compiled_through_the_api_without_being_served_or_recorded()
    {
        var main = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await _catalog.LoadAsync(CancellationToken.None);
        var served = _catalog.Find("greet")!;
        var head = _api.Commit(main, new Dictionary<string, string?> { [Greet] = Runbook("v2", "undefinedName();"), ["ops/runbooks/fresh.csx"] = Runbook("fresh") }, "Break greet");

        var validation = await _catalog.ValidateCommitAsync(head, 2, CancellationToken.None);
        var report = GitHubChecks.BuildPullRequest(2, validation, _catalog.Revision!.Commit);

        Assert.Equal(head, validation.Revision.Commit);
        Assert.Equal(["fresh"], validation.Change.Added);
        Assert.Equal(["greet"], validation.Change.Updated);
        Assert.Equal(["greet"], validation.Change.Failed);
        Assert.Equal(Octokit.CheckConclusion.Failure, report.Conclusion);
        var annotation = Assert.Single(report.Annotations);
        Assert.Equal((Greet, 5), (annotation.Path, annotation.StartLine));
        Assert.Contains("Pull request #2", report.Summary, StringComparison.Ordinal);
        Assert.Contains("Do not compile: `greet`", report.Summary, StringComparison.Ordinal);
        Assert.Same(served, _catalog.Find("greet"));
        Assert.Null(_catalog.Find("fresh"));
        Assert.Equal(main, _catalog.Revision.Commit);
        Assert.Single(await _store.ListVersionsAsync("greet", CancellationToken.None));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Data, "pulls")));
    }

    [Fact]
    public async Task the_pull_request_a_commit_came_from_is_asked_of_github_only_when_its_message_names_none()
    {
        var rebased = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Greet more kindly");
        _api.MergedFrom[rebased] = 7;
        await _catalog.LoadAsync(CancellationToken.None);
        var merged = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2") }, "Merge pull request #8 from acme/kinder\n\nKinder");
        await _catalog.SyncAsync(CancellationToken.None);

        var versions = await _store.ListVersionsAsync("greet", CancellationToken.None);
        var github = new GitHubOptions { ApiUrl = _api.Address.ToString(), Repository = "acme/runbooks" };
        var first = Provenance.Of(versions.Single(v => v.Commit == rebased), github)!;
        var second = Provenance.Of(versions.Single(v => v.Commit == merged), github)!;

        Assert.Equal(7, versions.Single(v => v.Commit == rebased).PullRequest);
        Assert.Equal(new PullRequestReference(7, $"{_api.Address}acme/runbooks/pull/7"), first.PullRequest);
        Assert.Equal(8, second.PullRequest!.Number);
        Assert.DoesNotContain(_api.Requests, r => r.Path == $"/repos/acme/runbooks/commits/{merged}/pulls");
    }

    [Fact]
    public async Task a_tarball_with_an_entry_outside_its_folder_is_refused()
    {
        using var tar = new MemoryStream();
        using (var gzip = new GZipStream(tar, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "acme-runbooks-1234567/../../escape.csx") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("x")) });
        }

        var target = Path.Combine(_folder, "unpacked");
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => GitHubApiSource.Unpack(tar.ToArray(), target, CancellationToken.None));

        Assert.Contains("outside its folder", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_folder, "escape.csx")));
    }

    [Fact]
    public async Task a_tarball_with_more_entries_than_the_cap_is_refused_with_the_cap_named()
    {
        var tar = Tarball(Enumerable.Range(0, 11).Select(i => ($"acme-runbooks-1234567/r{i}.csx", 1)));

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => GitHubApiSource.Unpack(tar, Path.Combine(_folder, "many"), 10, long.MaxValue, "", CancellationToken.None));

        Assert.Contains("more than 10 entries", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_tarball_that_unpacks_to_more_than_the_cap_is_refused_before_the_file_is_written()
    {
        var tar = Tarball([("acme-runbooks-1234567/small.csx", 10), ("acme-runbooks-1234567/big.csx", 1000)]);
        var target = Path.Combine(_folder, "big");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => GitHubApiSource.Unpack(tar, target, 100, 500, "", CancellationToken.None));

        Assert.Contains("more than 500 bytes", error.Message, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target, "small.csx")));
        Assert.False(File.Exists(Path.Combine(target, "big.csx")));
    }

    [Fact]
    public async Task a_tarball_within_the_caps_unpacks_without_its_top_folder_and_without_links()
    {
        using var tar = new MemoryStream();
        using (var gzip = new GZipStream(tar, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "acme-runbooks-1234567/greet.csx") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("x")) });
            writer.WriteEntry(new PaxTarEntry(TarEntryType.SymbolicLink, "acme-runbooks-1234567/again.csx") { LinkName = "greet.csx" });
        }

        var target = Path.Combine(_folder, "fine");
        await GitHubApiSource.Unpack(tar.ToArray(), target, CancellationToken.None);

        Assert.True(File.Exists(Path.Combine(target, "greet.csx")));
        Assert.False(File.Exists(Path.Combine(target, "again.csx")));
    }

    private static byte[] Tarball(IEnumerable<(string Name, int Bytes)> files)
    {
        using var tar = new MemoryStream();
        using (var gzip = new GZipStream(tar, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            foreach (var (name, bytes) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(new byte[bytes]) });
            }
        }

        return tar.ToArray();
    }

    private sealed record LogEntry(LogLevel Level, int EventId, string Message);

    private sealed class RecordingLog
    {
        private readonly List<LogEntry> _entries = [];

        public IReadOnlyList<LogEntry> Entries
        {
            get
            {
                lock (_entries)
                {
                    return [.. _entries];
                }
            }
        }

        public ILogger<T> For<T>() => new Logger<T>(this);

        private sealed class Logger<T>(RecordingLog log) : ILogger<T>
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (log._entries)
                {
                    log._entries.Add(new LogEntry(logLevel, eventId.Id, formatter(state, exception)));
                }
            }
        }
    }
}
