namespace RunbookEngine.Catalog;

/// <summary>One state of the runbook source: the folder to read and, when it is in Git, the commit it holds.</summary>
/// <param name="Root">The folder holding the runbooks.</param>
/// <param name="Commit">The commit (with <c>-dirty</c> when the folder differs from it), or null outside Git.</param>
/// <param name="Author">The commit's author.</param>
/// <param name="CommittedAt">When it was committed.</param>
/// <param name="Message">Its subject line.</param>
/// <param name="RepositoryRoot">For a followed remote, the clone's work tree: errors name files relative to it, as in the repository.</param>
/// <param name="PullRequest">The pull request the commit came from, when GitHub's API says so and its message does not.</param>
public sealed record CatalogRevision(string Root, string? Commit, string? Author = null, DateTimeOffset? CommittedAt = null, string? Message = null, string? RepositoryRoot = null, int? PullRequest = null);

/// <summary>Where the catalog reads runbooks from.</summary>
public interface IRunbookSourceProvider
{
    /// <summary>A word for logs and the API: <c>folder</c> or <c>git</c>.</summary>
    string Kind { get; }

    /// <summary>Where it reads from, for people (a folder, or a URL without credentials and its branch).</summary>
    string Description { get; }

    /// <summary>Brings the source up to date (a fetch, for Git) and says what it holds now.</summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The revision to load.</returns>
    Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken);

    /// <summary>Moves to a given commit that another node has validated, fetching it if needed.</summary>
    /// <param name="commit">The commit.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The revision, or null when this source cannot follow commits (a local folder).</returns>
    Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken);
}

/// <summary>
/// A source that can lay out a commit other than the one it follows (a pull request's head) in a folder of its own,
/// for validation only: nothing it writes there is served.
/// </summary>
public interface ICommitExport
{
    /// <summary>Writes the repository at <paramref name="commit"/> into <paramref name="folder"/>.</summary>
    /// <param name="commit">The commit's SHA.</param>
    /// <param name="pullRequest">The pull request whose head it is: a fork's commit is reachable as <c>refs/pull/N/head</c>.</param>
    /// <param name="folder">An empty folder to write into.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The revision: the runbook subfolder within <paramref name="folder"/>, and the commit's metadata.</returns>
    Task<CatalogRevision> ExportAsync(string commit, int pullRequest, string folder, CancellationToken cancellationToken);
}
