using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

/// <summary>What the store keeps for runbooks to earn trust: run modes, shadow proposals and people's verdicts on them.</summary>
public interface ITrustStore
{
    /// <summary>Records the mode an execution of the run ran in, while <paramref name="claim"/> holds it.</summary>
    /// <param name="id">The run id.</param>
    /// <param name="mode">The mode.</param>
    /// <param name="claim">The execution's claim.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when written.</returns>
    Task SetModeAsync(string id, RunMode mode, string? claim, CancellationToken cancellationToken);

    /// <summary>Ends a shadow run <c>Proposed</c> with what it would have done, while <paramref name="claim"/> holds it.</summary>
    /// <param name="id">The run id.</param>
    /// <param name="proposal">What it would have done.</param>
    /// <param name="claim">The execution's claim.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when this write ended the run.</returns>
    Task<bool> ProposeAsync(string id, RunProposal proposal, string? claim, CancellationToken cancellationToken);

    /// <summary>
    /// The facts a runbook's freshness is judged from (its latest success, passing and failing drills, alert, first
    /// version), for one runbook or, in a few grouped queries, for all of them.
    /// </summary>
    /// <param name="runbook">One runbook, or null for every runbook the store knows.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The facts, one entry per runbook the store knows anything of.</returns>
    Task<IReadOnlyList<Trust.Freshness.FreshnessFacts>> FreshnessFactsAsync(string? runbook, CancellationToken cancellationToken);
}
