namespace RunbookEngine.Trust;

/// <summary>
/// When a runbook's record suggests giving it more room, section <c>RunbookEngine:Trust</c>. A suggestion is shown
/// on the runbook's API entry and dashboard page; the mode changes only when a person edits the front matter.
/// </summary>
public sealed class TrustOptions
{
    /// <summary>
    /// Proposals judged right in a row (none judged wrong since) before a runbook in <c>shadow</c> mode is suggested
    /// for <c>confirm</c>. Default 20.
    /// </summary>
    public int ShadowToConfirmAfter { get; set; } = 20;

    /// <summary>
    /// Confirm-mode approvals given in a row (none refused since) before a runbook in <c>confirm</c> mode is suggested
    /// for <c>auto</c>. Default 20.
    /// </summary>
    public int ConfirmToAutoAfter { get; set; } = 20;

    /// <summary>
    /// How long lists of runbooks (<c>GET /api/runbooks</c>, the dashboard's runbooks page, <c>/metrics</c>) reuse one read
    /// of every runbook's freshness facts and trust counts, per host. One runbook's own entry always reads fresh.
    /// Default 30 seconds; zero reads on every request.
    /// </summary>
    public TimeSpan ListCacheFor { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>When a runbook stops counting as fresh: section <c>RunbookEngine:Trust:Freshness</c>.</summary>
    public Freshness.FreshnessOptions Freshness { get; set; } = new();
}
