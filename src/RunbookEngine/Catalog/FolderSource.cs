namespace RunbookEngine.Catalog;

/// <summary>
/// A runbook folder on this machine. When it lies inside a Git work tree, the revision carries the work tree's commit,
/// marked <c>-dirty</c> when the folder has changes that are not committed, so a run never claims a commit it did not run.
/// </summary>
internal sealed class FolderSource(string root, GitCli git) : IRunbookSourceProvider
{
    public string Kind => "folder";

    public string Description => root;

    public string Root => root;

    public async Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken)
    {
        if (!InsideARepository(root))
        {
            return new CatalogRevision(root, null);
        }

        try
        {
            var inside = await git.RunAsync(root, cancellationToken, "rev-parse", "--is-inside-work-tree");
            if (inside != "true")
            {
                return new CatalogRevision(root, null);
            }

            var info = await git.RunAsync(root, cancellationToken, "log", "-1", "--format=%H%x00%an <%ae>%x00%cI%x00%s");
            var dirty = await git.RunAsync(root, cancellationToken, "status", "--porcelain", "--", ".");
            var parts = info.Split('\0');
            return new CatalogRevision(root, parts[0] + (dirty.Length > 0 ? "-dirty" : ""), parts[1], DateTimeOffset.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture), parts[3]);
        }
        catch (GitException)
        {
            // Not a Git work tree, a repository without commits, or no git at all: versions are content hashes alone.
            return new CatalogRevision(root, null);
        }
    }

    // Looked up without starting git, so a plain folder (the common case in tests and quick starts) costs no process.
    private static bool InsideARepository(string folder)
    {
        for (var directory = new DirectoryInfo(folder); directory is not null; directory = directory.Parent)
        {
            if (Directory.Exists(Path.Combine(directory.FullName, ".git")) || File.Exists(Path.Combine(directory.FullName, ".git")))
            {
                return true;
            }
        }

        return false;
    }

    public Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken) => Task.FromResult<CatalogRevision?>(null);
}
