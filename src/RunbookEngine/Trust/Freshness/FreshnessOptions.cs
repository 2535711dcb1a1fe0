namespace RunbookEngine.Trust.Freshness;

/// <summary>When a runbook stops counting as fresh, section <c>RunbookEngine:Trust:Freshness</c>.</summary>
public sealed class FreshnessOptions
{
    /// <summary>
    /// A runbook with no successful run and no passing drill for this long is stale (and one never proven is stale this
    /// long after it first appeared). Default 90 days.
    /// </summary>
    public TimeSpan StaleAfter { get; set; } = TimeSpan.FromDays(90);

    /// <summary>A runbook with no successful run and no passing drill for this long is aging. Default 30 days.</summary>
    public TimeSpan AgingAfter { get; set; } = TimeSpan.FromDays(30);

    /// <summary>A runbook whose <c>review_by:</c> date is this close is aging. Default 14 days.</summary>
    public TimeSpan ReviewWarning { get; set; } = TimeSpan.FromDays(14);
}
