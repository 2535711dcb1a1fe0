using RunbookEngine.Catalog;

namespace RunbookEngine.Storage;

/// <summary>Every runbook version the catalog has seen, with its source, and the commit the cluster follows.</summary>
public interface IVersionStore
{
    /// <summary>Records a version the first time it is seen; later sightings keep the first commit.</summary>
    /// <param name="version">The version.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when it was new.</returns>
    Task<bool> RecordVersionAsync(RunbookVersion version, CancellationToken cancellationToken);

    /// <summary>A runbook's versions, newest first, without their source.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The versions.</returns>
    Task<IReadOnlyList<RunbookVersion>> ListVersionsAsync(string runbook, CancellationToken cancellationToken);

    /// <summary>One version with its source files, or null.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="contentHash">The version's content hash.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The version.</returns>
    Task<RunbookVersion?> GetVersionAsync(string runbook, string contentHash, CancellationToken cancellationToken);

    /// <summary>The commit the cluster's catalog follows, or null before any node has synced one.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The commit.</returns>
    Task<string?> GetCatalogCommitAsync(CancellationToken cancellationToken);

    /// <summary>Records that a node has validated and switched to a commit, for the other nodes to follow.</summary>
    /// <param name="commit">The commit.</param>
    /// <param name="node">The node.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task SetCatalogCommitAsync(string commit, string node, CancellationToken cancellationToken);

    /// <summary>
    /// Remembers a GitHub webhook delivery (<c>X-GitHub-Delivery</c>) for the whole cluster, so a redelivery or a replay
    /// sent to any node is recognised. Forgotten by retention after <c>RunbookEngine:Retention:MaxAge</c>.
    /// </summary>
    /// <param name="deliveryId">The delivery's id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when it is new; false when some node has seen it already.</returns>
    Task<bool> RememberGitHubDeliveryAsync(string deliveryId, CancellationToken cancellationToken);

    /// <summary>
    /// Claims the posting of a GitHub check run on a commit for the whole cluster: of the nodes that fetched the commit,
    /// only the one whose claim wins posts.
    /// </summary>
    /// <param name="commit">The commit's SHA.</param>
    /// <param name="checkName">The check run's name.</param>
    /// <param name="node">The node claiming it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>
    /// True when this node is to post; false when a node (this one before a restart, or another) has claimed it and either
    /// posted or claimed it less than <see cref="SqlRunStore.GitHubCheckLease"/> ago.
    /// </returns>
    Task<bool> ClaimGitHubCheckAsync(string commit, string checkName, string node, CancellationToken cancellationToken);

    /// <summary>Gives up a claim this node made and could not honour (GitHub refused or stayed away), so a later sync can post.</summary>
    /// <param name="commit">The commit's SHA.</param>
    /// <param name="checkName">The check run's name.</param>
    /// <param name="node">The node that claimed it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task ReleaseGitHubCheckAsync(string commit, string checkName, string node, CancellationToken cancellationToken);

    /// <summary>Records that the check run of a claim now exists on GitHub, so its claim is never taken over.</summary>
    /// <param name="commit">The commit's SHA.</param>
    /// <param name="checkName">The check run's name.</param>
    /// <param name="node">The node that claimed it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task MarkGitHubCheckPostedAsync(string commit, string checkName, string node, CancellationToken cancellationToken);
}
