namespace RunbookEngine.Scripting.FrontMatter;

/// <summary>The events a <c>notify:</c> block or the host's default routes can send to channels.</summary>
public static class NotifyEvents
{
    /// <summary>A run ended Failed.</summary>
    public const string Failed = "failed";

    /// <summary>A run ended TimedOut.</summary>
    public const string TimedOut = "timed_out";

    /// <summary>A run rests until a person answers: a manual step, an approval, or confirm mode's question.</summary>
    public const string Waiting = "waiting";

    /// <summary>A run ended Succeeded; routed nowhere unless asked, since most runs succeed.</summary>
    public const string Succeeded = "succeeded";

    /// <summary>The runbook's circuit breaker opened, so its alerts start no runs.</summary>
    public const string BreakerOpened = "breaker_opened";

    /// <summary>A catalog sync failed, or a runbook stopped compiling.</summary>
    public const string CatalogBroken = "catalog_broken";

    /// <summary>Related alerts opened an incident (written in the transaction that stores its first alert).</summary>
    public const string IncidentOpened = "incident_opened";

    /// <summary>An incident's last alert resolved, closing it.</summary>
    public const string IncidentClosed = "incident_closed";

    /// <summary>The events a runbook's own <c>notify:</c> can route: the ones about a runbook (incidents are routed by the defaults only).</summary>
    public static readonly string[] OfRunbooks = [Failed, TimedOut, Waiting, Succeeded, BreakerOpened, CatalogBroken];

    /// <summary>Every event name, in the order the docs list them.</summary>
    public static readonly string[] All = [Failed, TimedOut, Waiting, Succeeded, BreakerOpened, CatalogBroken, IncidentOpened, IncidentClosed];
}
