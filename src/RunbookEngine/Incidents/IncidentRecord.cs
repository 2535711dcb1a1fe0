namespace RunbookEngine.Incidents;

/// <summary>An incident as the store keeps it: related alerts grouped, open until all of them have resolved.</summary>
/// <param name="Id">Our id for it.</param>
/// <param name="Title">The name of the alert that opened it.</param>
/// <param name="Service">The service it is filed under, when its first alert named one.</param>
/// <param name="GroupRule">The rule of the key it was opened under (<see cref="IncidentRules"/>).</param>
/// <param name="GroupKey">That key.</param>
/// <param name="State">Open or closed.</param>
/// <param name="OpenedAt">When its first alert was received.</param>
/// <param name="ClosedAt">When its last alert resolved (the sender's end time), once closed.</param>
/// <param name="LastAlertAt">When its latest alert was received.</param>
/// <param name="Alerts">How many firing alerts it holds (resends not counted).</param>
public sealed record IncidentRecord(
    string Id,
    string Title,
    string? Service,
    string GroupRule,
    string GroupKey,
    IncidentState State,
    DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt,
    DateTimeOffset LastAlertAt,
    int Alerts);

/// <summary>Whether an incident is still going on.</summary>
public enum IncidentState
{
    /// <summary>At least one of its alerts has not resolved.</summary>
    Open,

    /// <summary>All its alerts have resolved.</summary>
    Closed,
}

/// <summary>A page of incidents, newest first.</summary>
/// <param name="State">Only open or only closed ones.</param>
/// <param name="Service">Only this service.</param>
/// <param name="Since">Only incidents opened at or after this.</param>
/// <param name="Until">Only incidents opened before this.</param>
/// <param name="Limit">At most this many (1 to 500).</param>
/// <param name="Before">Only incidents older than this incident id (the cursor of the next page).</param>
public sealed record IncidentQuery(IncidentState? State = null, string? Service = null, DateTimeOffset? Since = null, DateTimeOffset? Until = null, int Limit = 50, string? Before = null);
