using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using RunbookEngine.Catalog;
using RunbookEngine.GitHub;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Catalog;

/// <summary>
/// The caps on what a commit unpacks to, through both sources and a real catalog: the <c>github</c> source against a fake
/// GitHub API on loopback (its tarball streamed to disk), the <c>git</c> source against a bare repository on disk (its
/// pull request archives through <c>git archive</c>, its syncs through a checkout). Each refusal names what was refused,
/// and the catalog keeps serving the last good commit. The caps are small here; the defaults are far larger.
/// </summary>
public sealed class ArchiveCapsTests : IAsyncLifetime
{
    private const string Greet = "ops/runbooks/greet.csx";

    private static readonly ArchiveCaps Small = new(MaxArchiveBytes: 1024 * 1024, MaxEntries: 40, MaxUnpackedBytes: 512 * 1024);

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-archive-caps-").FullName;
    private FakeGitHubApi _api = null!;
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;

    private string Data => Path.Combine(_folder, "data");

    public async Task InitializeAsync()
    {
        _api = FakeGitHubApi.Start();
        _store = SqlRunStore.Sqlite(Path.Combine(Data, "runs.db"), TimeProvider.System);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(Data, "compiled"));
    }

    public async Task DisposeAsync()
    {
        _compiler.Dispose();
        await _store.DisposeAsync();
        await _api.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private static string Runbook(string marker) => $$"""
        // ---
        // description: Greets
        // ---
        await Step("say", ct => { Log.Info("hello from {{marker}}"); return Task.CompletedTask; });
        """;

    public static TheoryData<string, string> RefusedTarballs => new()
    {
        { "a file that climbs out", "the archive holds acme-runbooks-bad0000/../../escape.csx, which lies outside its folder" },
        { "an absolute path", "the archive holds /etc/cron.d/evil, which lies outside its folder" },
        { "a symbolic link out", "the archive holds acme-runbooks-bad0000/ops/runbooks/passwd, a symbolic link to /etc/passwd, which lies outside its folder" },
        { "a relative symbolic link out", "the archive holds acme-runbooks-bad0000/ops/runbooks/up, a symbolic link to ../../../.., which lies outside its folder" },
        { "a hard link out", "the archive holds acme-runbooks-bad0000/ops/runbooks/shadow, a hard link to ../../etc/shadow, which lies outside its folder" },
    };

    [Theory]
    [MemberData(nameof(RefusedTarballs))]
    public async Task a_github_tarball_holding_a_path_outside_its_folder_is_refused_and_the_last_good_commit_keeps_serving(string what, string expected)
    {
        using var catalog = GitHubCatalog();
        var good = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await catalog.LoadAsync(CancellationToken.None);
        var served = catalog.Find("greet")!;
        var bad = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2") }, what);
        _api.Tarballs[bad] = Tarball(what);

        var change = await catalog.SyncAsync(CancellationToken.None);

        Assert.Contains($"The archive of {bad} from acme/runbooks was refused: {expected}", change.Error, StringComparison.Ordinal);
        Assert.Equal(good, change.Commit);
        Assert.Equal(good, catalog.Revision!.Commit);
        Assert.Same(served, catalog.Find("greet"));
        Assert.Equal(change.Error, catalog.LastSync.Error);
        Assert.False(File.Exists(Path.Combine(_folder, "escape.csx")));
        Assert.False(Directory.Exists(Path.Combine(Data, "github", "acme-runbooks", bad)));
    }

    [Fact]
    public async Task a_github_tarball_over_the_archive_cap_is_refused_as_it_streams_and_the_last_good_commit_keeps_serving()
    {
        using var catalog = GitHubCatalog();
        var good = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await catalog.LoadAsync(CancellationToken.None);

        // Random bytes do not compress: the tarball is larger than the 1 MiB cap, its unpacked size under no cap at all.
        var bad = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2"), ["ops/blob.txt"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(2 * 1024 * 1024)) }, "Commit a blob");
        var change = await catalog.SyncAsync(CancellationToken.None);

        Assert.Equal($"The archive of {bad} from acme/runbooks was refused: it exceeds 1 MiB; larger archives are refused (a runbook folder is far smaller: look for large files committed by mistake); the catalog keeps serving its last good version", change.Error);
        Assert.Equal(good, catalog.Revision!.Commit);
        Assert.True(catalog.Find("greet")!.IsValid);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(Data, "github", "acme-runbooks"), "*.tar.gz"));
        Assert.Single(_api.Requests, r => r.Path == $"/repos/acme/runbooks/tarball/{bad}" && r.Authorization == "Token ghp_caps-token");
    }

    [Fact]
    public async Task a_github_tarball_over_the_entry_or_unpacked_size_cap_is_refused_and_the_last_good_commit_keeps_serving()
    {
        using var catalog = GitHubCatalog();
        var good = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v1") }, "Good");
        await catalog.LoadAsync(CancellationToken.None);

        var many = _api.Push("main", Enumerable.Range(0, 50).ToDictionary(i => $"ops/notes/{i}.md", i => (string?)"note"), "Many notes");
        var crowded = await catalog.SyncAsync(CancellationToken.None);
        var fewer = Enumerable.Range(1, 49).ToDictionary(i => $"ops/notes/{i}.md", _ => (string?)null);
        fewer["ops/notes/0.md"] = new string('a', 600 * 1024);
        var large = _api.Push("main", fewer, "One large note");
        var swollen = await catalog.SyncAsync(CancellationToken.None);

        Assert.Contains($"The archive of {many} from acme/runbooks was refused: the archive holds more than 40 entries", crowded.Error, StringComparison.Ordinal);
        Assert.Contains($"The archive of {large} from acme/runbooks was refused: the archive unpacks to more than 524288 bytes", swollen.Error, StringComparison.Ordinal);
        Assert.Equal(good, catalog.Revision!.Commit);
        Assert.True(catalog.Find("greet")!.IsValid);
    }

    [Fact]
    public async Task a_git_commit_with_a_symbolic_link_out_of_the_repository_is_refused_and_the_last_good_commit_keeps_serving()
    {
        var remote = await BareRepositoryAsync();
        var good = await CommitAsync(remote, "Good", work => File.WriteAllText(Path.Combine(work, Greet), Runbook("v1")));
        using var catalog = GitCatalog(remote);
        await catalog.LoadAsync(CancellationToken.None);
        var served = catalog.Find("greet")!;
        var bad = await CommitAsync(remote, "Link out", work =>
        {
            File.WriteAllText(Path.Combine(work, Greet), Runbook("v2"));
            File.CreateSymbolicLink(Path.Combine(work, "ops", "runbooks", "passwd.csx"), "/etc/passwd");
        });

        var change = await catalog.SyncAsync(CancellationToken.None);

        Assert.Equal($"Commit {bad} was refused: ops/runbooks/passwd.csx is a symbolic link to /etc/passwd, which lies outside the repository; links leaving the repository are refused", change.Error);
        Assert.Equal(good, catalog.Revision!.Commit);
        Assert.Same(served, catalog.Find("greet"));
    }

    public static TheoryData<string, string> RefusedPullRequests => new()
    {
        { "a symbolic link out", "the archive holds ops/runbooks/up, a symbolic link to ../../.., which lies outside its folder" },
        { "too many entries", "the archive holds more than 40 entries" },
        { "too many bytes", "the archive unpacks to more than 524288 bytes" },
        { "too large an archive", "exceeds 1 MiB" },
    };

    [Theory]
    [MemberData(nameof(RefusedPullRequests))]
    public async Task a_git_pull_request_whose_archive_passes_a_cap_is_refused_without_touching_what_serves(string what, string expected)
    {
        var remote = await BareRepositoryAsync();
        var good = await CommitAsync(remote, "Good", work => File.WriteAllText(Path.Combine(work, Greet), Runbook("v1")));
        using var catalog = GitCatalog(remote);
        await catalog.LoadAsync(CancellationToken.None);
        var served = catalog.Find("greet")!;
        var head = await CommitAsync(remote, what, work =>
        {
            var notes = Directory.CreateDirectory(Path.Combine(work, "ops", "notes")).FullName;
            switch (what)
            {
                case "a symbolic link out":
                    File.CreateSymbolicLink(Path.Combine(work, "ops", "runbooks", "up"), "../../..");
                    break;
                case "too many entries":
                    for (var i = 0; i < 50; i++)
                    {
                        File.WriteAllText(Path.Combine(notes, $"{i}.md"), "note");
                    }

                    break;
                case "too many bytes":
                    File.WriteAllText(Path.Combine(notes, "large.md"), new string('a', 600 * 1024));
                    break;
                default:
                    File.WriteAllText(Path.Combine(notes, "blob.txt"), Convert.ToBase64String(RandomNumberGenerator.GetBytes(1024 * 1024)));
                    break;
            }
        }, branch: "refs/pull/3/head");

        var error = await Assert.ThrowsAsync<InvalidDataException>(() => catalog.ValidateCommitAsync(head, 3, CancellationToken.None));

        Assert.StartsWith($"The archive of {head} was refused: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Equal(good, catalog.Revision!.Commit);
        Assert.Same(served, catalog.Find("greet"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(Data, "pulls")));
    }

    [Fact]
    public async Task a_github_tarball_with_a_link_out_of_the_repository_outside_the_followed_folder_is_served_without_the_link()
    {
        using var catalog = GitHubCatalog();
        var head = _api.Push("main", new Dictionary<string, string?> { [Greet] = Runbook("v2") }, "A monorepo's tool link");
        _api.Tarballs[head] = Tarball("a link elsewhere in the repository");

        await catalog.LoadAsync(CancellationToken.None);

        Assert.Null(catalog.LastSync.Error);
        Assert.Equal(head, catalog.Revision!.Commit);
        Assert.True(catalog.Find("greet")!.IsValid);
        Assert.False(Path.Exists(Path.Combine(catalog.Revision.RepositoryRoot!, "tools", "python")));
    }

    [Fact]
    public async Task a_git_commit_and_pull_request_with_a_link_out_of_the_repository_outside_the_followed_folder_are_served_and_checked()
    {
        var remote = await BareRepositoryAsync();
        var first = await CommitAsync(remote, "Good, with a tool link", work =>
        {
            File.WriteAllText(Path.Combine(work, Greet), Runbook("v1"));
            Directory.CreateDirectory(Path.Combine(work, "tools"));
            File.CreateSymbolicLink(Path.Combine(work, "tools", "python"), "/usr/bin/python3");
        });
        using var catalog = GitCatalog(remote);
        var head = await CommitAsync(remote, "Greet anew", work => File.WriteAllText(Path.Combine(work, Greet), Runbook("v2")), branch: "refs/pull/4/head");

        await catalog.LoadAsync(CancellationToken.None);
        var validation = await catalog.ValidateCommitAsync(head, 4, CancellationToken.None);

        Assert.Null(catalog.LastSync.Error);
        Assert.Equal(first, catalog.Revision!.Commit);
        Assert.True(catalog.Find("greet")!.IsValid);
        Assert.Equal(head, validation.Revision.Commit);
        Assert.All(validation.Entries, e => Assert.True(e.IsValid));
    }

    private RunbookCatalog GitHubCatalog()
    {
        var github = new GitHubOptions { ApiUrl = _api.Address.ToString(), Repository = "acme/runbooks", Token = "ghp_caps-token" };
        var source = new GitHubApiSource(github, new GitCatalogOptions { Branch = "main", Path = "ops/runbooks" }, Data, TimeProvider.System, NullLogger.Instance) { Caps = Small };
        return new RunbookCatalog(source, _compiler, _store, Data, TimeProvider.System, NullLogger<RunbookCatalog>.Instance);
    }

    private RunbookCatalog GitCatalog(string remote)
    {
        var git = new GitCli(GitCli.WriteAskPass(Path.Combine(Data, "git")), () => (null, null));
        var source = new GitRemoteSource(new GitCatalogOptions { Url = remote, Branch = "main", Path = "ops/runbooks" }, Data, git) { Caps = Small };
        return new RunbookCatalog(source, _compiler, _store, Data, TimeProvider.System, NullLogger<RunbookCatalog>.Instance);
    }

    /// <summary>A hand-made GitHub tarball of <c>ops/runbooks/greet.csx</c> and one entry a source must refuse.</summary>
    private static byte[] Tarball(string what)
    {
        const string Top = "acme-runbooks-bad0000/";
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, Top));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, Top + Greet) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(Runbook("v2"))) });
            writer.WriteEntry(what switch
            {
                "a file that climbs out" => new PaxTarEntry(TarEntryType.RegularFile, Top + "../../escape.csx") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("x")) },
                "an absolute path" => new PaxTarEntry(TarEntryType.RegularFile, "/etc/cron.d/evil") { DataStream = new MemoryStream(Encoding.UTF8.GetBytes("x")) },
                "a symbolic link out" => new PaxTarEntry(TarEntryType.SymbolicLink, Top + "ops/runbooks/passwd") { LinkName = "/etc/passwd" },
                "a relative symbolic link out" => new PaxTarEntry(TarEntryType.SymbolicLink, Top + "ops/runbooks/up") { LinkName = "../../../.." },
                "a link elsewhere in the repository" => new PaxTarEntry(TarEntryType.SymbolicLink, Top + "tools/python") { LinkName = "/usr/bin/python3" },
                _ => new PaxTarEntry(TarEntryType.HardLink, Top + "ops/runbooks/shadow") { LinkName = "../../etc/shadow" },
            });
        }

        return output.ToArray();
    }

    private async Task<string> BareRepositoryAsync()
    {
        var bare = Path.Combine(_folder, "remote.git");
        await GitAsync(_folder, "init", "--quiet", "--bare", "--initial-branch", "main", bare);
        await GitAsync(_folder, "clone", "--quiet", bare, Path.Combine(_folder, "work"));
        await GitAsync(Path.Combine(_folder, "work"), "checkout", "--quiet", "-B", "main");
        Directory.CreateDirectory(Path.Combine(_folder, "work", "ops", "runbooks"));
        return bare;
    }

    /// <summary>Changes the work tree, commits, and pushes to <paramref name="branch"/> (a branch, or a ref such as a pull request's head).</summary>
    private async Task<string> CommitAsync(string remote, string message, Action<string> change, string branch = "main")
    {
        var work = Path.Combine(_folder, "work");
        change(work);
        await GitAsync(work, "add", "--all");
        await GitAsync(work, "-c", "user.name=Ada Lovelace", "-c", "user.email=ada@example.com", "commit", "--quiet", "-m", message);
        await GitAsync(work, "push", "--quiet", remote, branch.StartsWith("refs/", StringComparison.Ordinal) ? $"HEAD:{branch}" : $"HEAD:refs/heads/{branch}");
        var sha = await GitAsync(work, "rev-parse", "HEAD");

        // A pull request's commit stays off the branch the catalog follows.
        if (branch != "main")
        {
            await GitAsync(work, "reset", "--quiet", "--hard", "HEAD~1");
        }

        return sha;
    }

    private static async Task<string> GitAsync(string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', arguments)} failed: {await error}");
        return (await output).Trim();
    }
}
