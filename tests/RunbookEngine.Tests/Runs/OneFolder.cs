using RunbookEngine.Catalog;

namespace RunbookEngine.Tests.Runs;

/// <summary>A plain folder, without the Git look-up the host's folder source makes.</summary>
internal sealed class OneFolder(string root) : IRunbookSourceProvider
{
    public string Kind => "folder";

    public string Description => root;

    public Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken) => Task.FromResult(new CatalogRevision(root, null));

    public Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken) => Task.FromResult<CatalogRevision?>(null);
}
