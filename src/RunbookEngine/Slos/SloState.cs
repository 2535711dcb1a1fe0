namespace RunbookEngine.Slos;

/// <summary>Where an SLO's error budget stands.</summary>
public enum SloState
{
    /// <summary>Not known: Prometheus could not be reached or asked, answered an error, or has no data; never taken for healthy.</summary>
    Unknown,

    /// <summary>More than the SLO's <c>LowBelow</c> share of the budget is left.</summary>
    Ok,

    /// <summary>Some budget is left, less than <c>LowBelow</c>.</summary>
    Low,

    /// <summary>The budget is spent (nothing or less than nothing left).</summary>
    Exhausted,
}
