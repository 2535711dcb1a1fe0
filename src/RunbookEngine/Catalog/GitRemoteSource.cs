using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RunbookEngine.Catalog;

/// <summary>
/// Follows one branch of a Git remote in a work directory of its own: a fetch of that branch, then a detached checkout
/// of exactly the commit fetched, so the catalog always reflects one commit. Safe to call from one caller at a time.
/// </summary>
internal sealed class GitRemoteSource : IRunbookSourceProvider
{
    private readonly GitCli _git;
    private readonly string _url;
    private readonly string _branch;
    private readonly string _subfolder;
    private readonly string _workTree;

    public GitRemoteSource(GitCatalogOptions options, string dataPath, GitCli git)
    {
        _git = git;
        _url = options.Url ?? throw new InvalidOperationException("RunbookEngine:Catalog:Git:Url must be set when RunbookEngine:Catalog:Source is git");
        _branch = options.Branch;
        _subfolder = options.Path.Trim('/');
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(_url + "\n" + _branch)))[..16];
        _workTree = Path.GetFullPath(Path.Combine(dataPath, "git", key));
    }

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

    private async Task<CatalogRevision> CheckoutCommitAsync(string commit, CancellationToken cancellationToken)
    {
        await _git.RunAsync(_workTree, cancellationToken, "checkout", "--quiet", "--force", "--detach", commit);
        await _git.RunAsync(_workTree, cancellationToken, "clean", "--quiet", "-fdx");
        var parts = (await _git.RunAsync(_workTree, cancellationToken, "log", "-1", "--format=%H%x00%an <%ae>%x00%cI%x00%s", commit)).Split('\0');
        var root = _subfolder.Length == 0 ? _workTree : Path.Combine(_workTree, _subfolder);
        return new CatalogRevision(root, parts[0], parts[1], DateTimeOffset.Parse(parts[2], CultureInfo.InvariantCulture), parts[3], _workTree);
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
