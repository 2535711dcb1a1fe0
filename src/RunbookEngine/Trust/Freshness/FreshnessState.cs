namespace RunbookEngine.Trust.Freshness;

/// <summary>How much a runbook can be trusted to still work; the numbers are the <c>/metrics</c> gauge's values.</summary>
public enum FreshnessState
{
    /// <summary>Recently proven, owned, and not due for review.</summary>
    Fresh = 0,

    /// <summary>Worth a look soon: no owner, no recent proof, or its review is near.</summary>
    Aging = 1,

    /// <summary>Not to be trusted until someone looks: its latest drill failed, its review has passed, or nothing has proven it for long.</summary>
    Stale = 2,
}
