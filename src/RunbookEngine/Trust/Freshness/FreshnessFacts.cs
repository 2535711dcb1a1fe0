namespace RunbookEngine.Trust.Freshness;

/// <summary>What the store knows of one runbook's record, from which its freshness is judged.</summary>
/// <param name="Runbook">The runbook.</param>
/// <param name="LastSuccessAt">When its latest run that was not a drill ended Succeeded (or Proposed, in shadow mode).</param>
/// <param name="LastPassingDrillAt">When its latest drill that passed ended.</param>
/// <param name="LastFailingDrillAt">When its latest drill that failed or timed out ended.</param>
/// <param name="LastFailingDrillRunId">That drill's run.</param>
/// <param name="LastFailingDrillError">Why that drill failed.</param>
/// <param name="LastAlertAt">When an alert that matched it was last received.</param>
/// <param name="FirstSeenAt">When the catalog first saw any version of it.</param>
public sealed record FreshnessFacts(
    string Runbook,
    DateTimeOffset? LastSuccessAt = null,
    DateTimeOffset? LastPassingDrillAt = null,
    DateTimeOffset? LastFailingDrillAt = null,
    string? LastFailingDrillRunId = null,
    string? LastFailingDrillError = null,
    DateTimeOffset? LastAlertAt = null,
    DateTimeOffset? FirstSeenAt = null)
{
    /// <summary>Whether its latest drill (of those that ended passing or failing) failed.</summary>
    public bool LatestDrillFailed => LastFailingDrillAt is { } failed && (LastPassingDrillAt is not { } passed || failed > passed);

    /// <summary>The latest proof that it works: a successful run or a passing drill.</summary>
    public DateTimeOffset? LastProvenAt => LastSuccessAt is { } success && (LastPassingDrillAt is not { } drill || success >= drill) ? success : LastPassingDrillAt;
}
