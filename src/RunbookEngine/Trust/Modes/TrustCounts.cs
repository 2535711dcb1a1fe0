namespace RunbookEngine.Trust.Modes;

/// <summary>A runbook's record in shadow and confirm mode, as the store counts it; drills are left out.</summary>
/// <param name="Runbook">The runbook.</param>
/// <param name="Proposals">Shadow runs that ended <c>Proposed</c>.</param>
/// <param name="Agreed">Proposals a person said would have been right.</param>
/// <param name="Disagreed">Proposals a person said would have been wrong.</param>
/// <param name="AwaitingVerdict">Proposals nobody has judged yet.</param>
/// <param name="AgreedSinceDisagreed">Proposals judged right that were queued after the last one judged wrong (all of them when none was).</param>
/// <param name="Approved">Confirm-mode approvals a person gave.</param>
/// <param name="Rejected">Confirm-mode approvals a person refused.</param>
/// <param name="Waiting">Confirm-mode approvals still waiting for a person.</param>
/// <param name="ApprovedSinceRejected">Approvals in runs queued after the last rejected one (all of them when none was).</param>
public sealed record TrustCounts(
    string Runbook,
    long Proposals,
    long Agreed,
    long Disagreed,
    long AwaitingVerdict,
    long AgreedSinceDisagreed,
    long Approved,
    long Rejected,
    long Waiting,
    long ApprovedSinceRejected)
{
    /// <summary>A runbook with no record yet.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <returns>All zeros.</returns>
    public static TrustCounts None(string runbook) => new(runbook, 0, 0, 0, 0, 0, 0, 0, 0, 0);
}
