using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RunbookEngine.Catalog;

/// <summary>
/// Follows one branch of a Git remote in a work directory of its own: a fetch of that branch, then a detached checkout
/// of exactly the commit fetched, so the catalog always reflects one commit. A pull request's head is written out with
/// <c>git archive</c> into a folder of its own, never checked out here. Safe to call from one caller at a time.
/// </summary>
internal sealed class GitRemoteSource : IRunbookSourceProvider, ICommitExport
{
    private readonly GitCli _git;
    private readonly string _url;
    private readonly string _branch;
    private readonly string _subfolder;
    private readonly string _workTree;

    // The last commit whose links were looked at: a poll that finds the same commit does not walk its tree again.
    private string? _linksChecked;

    public GitRemoteSource(GitCatalogOptions options, string dataPath, GitCli git)
    {
        _git = git;
        _url = options.Url ?? throw new InvalidOperationException("RunbookEngine:Catalog:Git:Url must be set when RunbookEngine:Catalog:Source is git");
        _branch = options.Branch;
        _subfolder = options.Path.Trim('/');
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_url + "\n" + _branch)))[..16];
        _workTree = Path.GetFullPath(Path.Combine(dataPath, "git", key));
    }

    /// <summary>The bounds on a pull request's archive; the defaults outside tests.</summary>
    internal ArchiveCaps Caps { get; init; } = ArchiveCaps.Default;

    public string Kind => "git";

    public string Description => $"{GitCli.Redact(_url)} ({_branch}{(_subfolder.Length == 0 ? "" : ", " + _subfolder)})";

    public async Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken)
    {
        await EnsureRepositoryAsync(cancellationToken);
        await _git.RunAsync(_workTree, cancellationToken, "fetch", "--quiet", "--prune", "--no-tags", "origin", $"+refs/heads/{_branch}:refs/remotes/origin/{_branch}");
        var commit = await _git.RunAsync(_workTree, cancellationToken, "rev-parse", $"refs/remotes/origin/{_branch}^{{commit}}");
        return await CheckoutCommitAsync(commit, cancellationToken);
    }

    public async Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken)
    {
        await EnsureRepositoryAsync(cancellationToken);
        try
        {
            await _git.RunAsync(_workTree, cancellationToken, "cat-file", "-e", $"{commit}^{{commit}}");
        }
        catch (GitException)
        {
            await _git.RunAsync(_workTree, cancellationToken, "fetch", "--quiet", "--prune", "--no-tags", "origin", $"+refs/heads/{_branch}:refs/remotes/origin/{_branch}");
        }

        return await CheckoutCommitAsync(commit, cancellationToken);
    }

    public async Task<CatalogRevision> ExportAsync(string commit, int pullRequest, string folder, CancellationToken cancellationToken)
    {
        await EnsureRepositoryAsync(cancellationToken);
        if (!await HasCommitAsync(commit, cancellationToken))
        {
            // A fork's commits reach the base repository only as refs/pull/N/head; that ref has moved on when the pull
            // request has newer commits, so the commit itself is asked for too (GitHub serves any reachable commit by SHA).
            try
            {
                await _git.RunAsync(_workTree, cancellationToken, "fetch", "--quiet", "--no-tags", "origin", $"+refs/pull/{pullRequest.ToString(CultureInfo.InvariantCulture)}/head:refs/runbookengine/pull/{pullRequest.ToString(CultureInfo.InvariantCulture)}");
            }
            catch (GitException)
            {
                // Not every remote has pull request refs (a plain Git server); the fetch by SHA below is the last word.
            }

            if (!await HasCommitAsync(commit, cancellationToken))
            {
                await _git.RunAsync(_workTree, cancellationToken, "fetch", "--quiet", "--no-tags", "origin", commit);
            }
        }

        // An archive rather than a checkout: the work tree holds the commit being served, and must keep holding it.
        var archive = folder.TrimEnd(Path.DirectorySeparatorChar) + ".tar";
        try
        {
            await _git.RunAsync(_workTree, cancellationToken, "archive", "--format=tar", "-o", archive, commit);

            // The same caps and the same refusal of links as GitHub's tarballs: a pull request's commit is anyone's.
            CatalogArchive.CheckSize(new FileInfo(archive).Length, "it", Caps.MaxArchiveBytes);
            await using var tar = File.OpenRead(archive);
            await CatalogArchive.UnpackAsync(tar, folder, stripTopFolder: false, Caps, _subfolder, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"The archive of {commit} was refused: {ex.Message}", ex);
        }
        finally
        {
            File.Delete(archive);
        }

        var parts = (await _git.RunAsync(_workTree, cancellationToken, "log", "-1", "--format=%H%x00%an <%ae>%x00%cI%x00%s", commit)).Split('\0');

        // The ref only brought the commit here; kept, every pull request ever checked would pin its objects for good.
        try
        {
            await _git.RunAsync(_workTree, cancellationToken, "update-ref", "-d", $"refs/runbookengine/pull/{pullRequest.ToString(CultureInfo.InvariantCulture)}");
        }
        catch (GitException)
        {
            // Absent when the commit was already here or the remote has no pull request refs.
        }
        var root = _subfolder.Length == 0 ? folder : Path.Combine(folder, _subfolder);
        return new CatalogRevision(root, parts[0], parts[1], DateTimeOffset.Parse(parts[2], CultureInfo.InvariantCulture), parts[3], folder);
    }

    private async Task<bool> HasCommitAsync(string commit, CancellationToken cancellationToken)
    {
        try
        {
            await _git.RunAsync(_workTree, cancellationToken, "cat-file", "-e", $"{commit}^{{commit}}");
            return true;
        }
        catch (GitException)
        {
            return false;
        }
    }

    private async Task<CatalogRevision> CheckoutCommitAsync(string commit, CancellationToken cancellationToken)
    {
        await _git.RunAsync(_workTree, cancellationToken, "checkout", "--quiet", "--force", "--detach", commit);
        await _git.RunAsync(_workTree, cancellationToken, "clean", "--quiet", "-fdx");
        RefuseLinksLeaving(commit);
        var parts = (await _git.RunAsync(_workTree, cancellationToken, "log", "-1", "--format=%H%x00%an <%ae>%x00%cI%x00%s", commit)).Split('\0');
        var root = _subfolder.Length == 0 ? _workTree : Path.Combine(_workTree, _subfolder);
        return new CatalogRevision(root, parts[0], parts[1], DateTimeOffset.Parse(parts[2], CultureInfo.InvariantCulture), parts[3], _workTree);
    }

    /// <summary>
    /// Refuses a commit whose runbook folder holds a symbolic link that leaves the repository, as an archive holding one
    /// is refused: the catalog would never load through it, but a commit that carries one was not meant as runbooks.
    /// The caller's catalog keeps serving what it served; the work tree is only read when a commit is applied.
    /// </summary>
    private void RefuseLinksLeaving(string commit)
    {
        if (_linksChecked == commit)
        {
            return;
        }

        var folder = _subfolder.Length == 0 ? _workTree : Path.Combine(_workTree, _subfolder);
        if (Directory.Exists(folder))
        {
            var options = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = true };
            foreach (var path in Directory.EnumerateFileSystemEntries(folder, "*", options))
            {
                var info = new FileInfo(path);
                if (info.LinkTarget is not { } target || path.Split(Path.DirectorySeparatorChar).Contains(".git"))
                {
                    continue;
                }

                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, target));
                if (!resolved.StartsWith(_workTree + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                {
                    var name = Path.GetRelativePath(_workTree, path).Replace(Path.DirectorySeparatorChar, '/');
                    throw new InvalidDataException($"Commit {commit} was refused: {name} is a symbolic link to {target}, which lies outside the repository; links leaving the repository are refused");
                }
            }
        }

        _linksChecked = commit;
    }

    private async Task EnsureRepositoryAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(Path.Combine(_workTree, ".git")))
        {
            return;
        }

        Directory.CreateDirectory(_workTree);
        await _git.RunAsync(_workTree, cancellationToken, "init", "--quiet");
        await _git.RunAsync(_workTree, cancellationToken, "remote", "add", "origin", _url);
    }
}
