using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.Freshness;

/// <summary>Each catalog runbook's freshness now: the store's facts, read in a few grouped queries, judged by <see cref="FreshnessRules"/>.</summary>
public sealed class FreshnessReader(ITrustStore store, RunbookCatalog catalog, IOptions<RunbookEngineOptions> options, TimeProvider time)
{
    // Only the facts are kept: they are judged against the catalog and the clock of each request.
    private readonly ListCache<Dictionary<string, FreshnessFacts>> _facts = new(() => options.Value.Trust.ListCacheFor, time);

    /// <summary>
    /// The freshness of every runbook in the catalog, by name, from facts up to <see cref="TrustOptions.ListCacheFor"/> old.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One entry per catalog runbook.</returns>
    public async Task<IReadOnlyDictionary<string, RunbookFreshness>> ForAllAsync(CancellationToken cancellationToken)
    {
        var facts = await _facts.GetAsync(
            async ct => (await store.FreshnessFactsAsync(null, ct)).ToDictionary(f => f.Runbook, StringComparer.Ordinal),
            cancellationToken);
        var now = time.GetUtcNow();
        return catalog.Entries.ToDictionary(
            e => e.Name,
            e => FreshnessRules.Evaluate(e.Definition, facts.GetValueOrDefault(e.Name), options.Value.Trust.Freshness, now),
            StringComparer.Ordinal);
    }

    /// <summary>One runbook's freshness, or null when the catalog has no such runbook.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Its freshness.</returns>
    public async Task<RunbookFreshness?> ForAsync(string runbook, CancellationToken cancellationToken)
    {
        if (catalog.Find(runbook) is not { } entry)
        {
            return null;
        }

        var facts = await store.FreshnessFactsAsync(runbook, cancellationToken);
        return FreshnessRules.Evaluate(entry.Definition, facts.Count > 0 ? facts[0] : null, options.Value.Trust.Freshness, time.GetUtcNow());
    }
}
