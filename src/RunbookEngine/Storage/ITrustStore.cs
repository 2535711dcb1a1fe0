using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Storage;

/// <summary>What the store keeps for runbooks to earn trust: run modes, shadow proposals and people's verdicts on them.</summary>
public interface ITrustStore
{
    /// <summary>
    /// Records a person's verdict on what a <c>Proposed</c> run would have done. A later verdict replaces an earlier
    /// one (a person may change their mind once they know more); the run keeps who gave the one that stands, and when.
    /// </summary>
    /// <param name="id">The run id.</param>
    /// <param name="verdict">The verdict.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when the run is <c>Proposed</c> and the verdict was written; false when there is no such run or it proposed nothing.</returns>
    Task<bool> RecordVerdictAsync(string id, RunVerdict verdict, CancellationToken cancellationToken);

    /// <summary>
    /// Each runbook's record in shadow and confirm mode: proposals and their verdicts, and the approvals confirm mode
    /// asked for (its steps named <c>Approve: confirm mode: …</c>). Drills are left out. Runbooks without any are absent.
    /// </summary>
    /// <param name="runbook">Only this runbook; all when null.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per runbook with a record.</returns>
    Task<IReadOnlyList<TrustCounts>> TrustCountsAsync(string? runbook, CancellationToken cancellationToken);

    /// <summary>A runbook's latest proposals (drills left out), newest first, with their verdicts.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The runs that ended <c>Proposed</c>.</returns>
    Task<IReadOnlyList<RunRecord>> LatestProposalsAsync(string runbook, int limit, CancellationToken cancellationToken);

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
