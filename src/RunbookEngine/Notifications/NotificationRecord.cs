namespace RunbookEngine.Notifications;

/// <summary>A row of the outbox: an event not yet routed (no <see cref="Channel"/>), or its delivery to one channel.</summary>
/// <param name="Id">The row's id; a delivery's id is also its webhook id, so a receiver can drop a second delivery.</param>
/// <param name="Event">The event, one of <see cref="Scripting.FrontMatter.NotifyEvents"/>.</param>
/// <param name="RunId">The run it is about, if any.</param>
/// <param name="Runbook">The runbook it is about, if any.</param>
/// <param name="Detail">What else the event says: the run's error, the breaker's reason, the sync's failure.</param>
/// <param name="Channel">The named channel it goes to, or null for an event still to be routed.</param>
/// <param name="State">Routing, Pending, Failing, Delivered or Abandoned.</param>
/// <param name="Attempts">Deliveries tried so far.</param>
/// <param name="NextAttemptAt">When it is tried next, while not delivered.</param>
/// <param name="LastError">Why the last attempt failed.</param>
/// <param name="CreatedAt">When the event happened.</param>
/// <param name="DeliveredAt">When the channel accepted it.</param>
public sealed record NotificationRecord(
    string Id,
    string Event,
    string? RunId,
    string? Runbook,
    string? Detail,
    string? Channel,
    string State,
    int Attempts,
    DateTimeOffset NextAttemptAt,
    string? LastError,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DeliveredAt);
