namespace RunbookEngine.Trust.Freshness;

/// <summary>A runbook's freshness: its state, each reason for it (worst first), and the facts behind them.</summary>
/// <param name="State">Fresh, aging or stale.</param>
/// <param name="Reasons">Why it is not fresh, one sentence each; empty when fresh.</param>
/// <param name="Facts">The facts judged.</param>
public sealed record RunbookFreshness(FreshnessState State, IReadOnlyList<string> Reasons, FreshnessEvidence Facts)
{
    /// <summary>The state as the API and the dashboard write it: <c>fresh</c>, <c>aging</c> or <c>stale</c>.</summary>
    public string StateName => State switch
    {
        FreshnessState.Stale => "stale",
        FreshnessState.Aging => "aging",
        _ => "fresh",
    };
}

/// <summary>The facts behind a runbook's freshness, as the API shows them.</summary>
/// <param name="LastSuccessAt">Its latest successful run, drills aside.</param>
/// <param name="LastPassingDrillAt">Its latest passing drill.</param>
/// <param name="LastFailingDrillAt">Its latest failing drill.</param>
/// <param name="LastAlertAt">When one of its alerts last fired.</param>
/// <param name="Owner">Its <c>owner:</c>, or null when it has none.</param>
/// <param name="ReviewBy">Its <c>review_by:</c> date, if it has one.</param>
public sealed record FreshnessEvidence(
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? LastPassingDrillAt,
    DateTimeOffset? LastFailingDrillAt,
    DateTimeOffset? LastAlertAt,
    string? Owner,
    DateOnly? ReviewBy);
