using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts;

/// <summary>One alert as the store keeps it: the normalised alert plus what the engine did about it.</summary>
/// <param name="Id">Our id for it.</param>
/// <param name="Alert">The normalised alert (its raw payload lives with its delivery).</param>
/// <param name="DeliveryRowId">The webhook request that carried it.</param>
/// <param name="DedupKey">The key that identifies resends of the same notification.</param>
/// <param name="ReceivedAt">When the engine received it.</param>
/// <param name="Outcome">What became of it.</param>
/// <param name="Detail">A short explanation of the outcome.</param>
/// <param name="DuplicateOf">The first alert with the same dedup key, when this one is a resend.</param>
/// <param name="ResolvedAt">For a firing alert: when its resolved notification arrived (the end of the incident).</param>
/// <param name="TraceParent">The W3C trace context of the webhook request that delivered it, if traced.</param>
/// <param name="IncidentId">The incident it belongs to: set for firing alerts when they are stored (resends and resolved notifications belong to none).</param>
/// <param name="GroupKey">The sender's own grouping: Alertmanager's <c>groupKey</c>, PagerDuty's incident id.</param>
public sealed record AlertRecord(
    string Id,
    RunbookAlert Alert,
    string DeliveryRowId,
    string DedupKey,
    DateTimeOffset ReceivedAt,
    AlertOutcome Outcome,
    string? Detail,
    string? DuplicateOf,
    DateTimeOffset? ResolvedAt,
    string? TraceParent = null,
    string? IncidentId = null,
    string? GroupKey = null);

/// <summary>What became of an alert.</summary>
public enum AlertOutcome
{
    /// <summary>Stored; matching has not finished yet.</summary>
    Pending,

    /// <summary>A node is matching it now.</summary>
    Matching,

    /// <summary>It matched runbooks and started at least one run.</summary>
    Started,

    /// <summary>It matched runbooks but a guard (cooldown, breaker, busy target, bad parameters) started none.</summary>
    Guarded,

    /// <summary>No runbook matches it: a person handles it, and it counts toward what to automate next.</summary>
    Unautomated,

    /// <summary>A resend of an alert already received; it starts nothing.</summary>
    Duplicate,

    /// <summary>A resolved notification; it closes the firing alert it belongs to.</summary>
    Resolution,
}

/// <summary>What one matching runbook did with an alert.</summary>
/// <param name="Runbook">The runbook.</param>
/// <param name="Decision">Whether a run started, or which guard stopped it.</param>
/// <param name="RunId">The run, when one started.</param>
/// <param name="Reason">Why, in words.</param>
/// <param name="DecidedAt">When.</param>
public sealed record AlertDecision(string Runbook, AlertDecisionKind Decision, string? RunId, string? Reason, DateTimeOffset DecidedAt);

/// <summary>Whether an alert started a run of one matching runbook.</summary>
public enum AlertDecisionKind
{
    /// <summary>A run started.</summary>
    Started,

    /// <summary>The runbook's circuit breaker is open.</summary>
    Suppressed,

    /// <summary>A run for the same target ended within the runbook's cooldown.</summary>
    Cooldown,

    /// <summary>Another run holds the target and the runbook refuses to queue.</summary>
    Busy,

    /// <summary>The alert does not give the parameters the runbook needs.</summary>
    InvalidParameters,

    /// <summary>The runbook cannot run (it does not compile, or was removed).</summary>
    RunbookInvalid,
}

/// <summary>A webhook request that was accepted: its source, raw body and the alerts it carried.</summary>
/// <param name="Source">The alert source.</param>
/// <param name="SourceDeliveryId">The source's delivery id (PagerDuty's X-Webhook-Id), when it sends one.</param>
/// <param name="Payload">The body as received.</param>
/// <param name="Alerts">The alerts, with their dedup keys.</param>
/// <param name="TraceParent">The W3C trace context of the request, so matching later (on any node) continues its trace.</param>
/// <param name="Incidents">
/// By the alerts' index, what each brings to grouping into incidents (null for one that joins none); null when grouping is off.
/// </param>
/// <param name="Unautomated">
/// By the alerts' index, why an alert already known to match no runbook is unautomated (null for the others): such an
/// alert is stored with its outcome and never matched again, so a storm of noise costs no writes after it is stored.
/// </param>
public sealed record WebhookDelivery(string Source, string? SourceDeliveryId, string Payload, IReadOnlyList<Sources.ParsedAlert> Alerts, string? TraceParent = null, IReadOnlyList<string?>? Unautomated = null, IReadOnlyList<Incidents.IncidentGroup?>? Incidents = null)
{
    /// <summary>
    /// Told why grouping failed when it did: the alerts are then stored without an incident (and stay ungrouped; nothing
    /// groups them later) rather than lost, so the caller logs the error and still acknowledges the webhook.
    /// </summary>
    public Action<Exception>? OnGroupingFailed { get; init; }
}

/// <summary>One stored alert of an accepted delivery.</summary>
/// <param name="Id">Its id.</param>
/// <param name="DuplicateOf">The alert it repeats, or null when it is new.</param>
/// <param name="Status">Firing or resolved.</param>
/// <param name="Outcome">What it was stored as: pending matching, a duplicate, or already unautomated.</param>
public sealed record StoredAlert(string Id, string? DuplicateOf, AlertStatus Status, AlertOutcome Outcome = AlertOutcome.Pending);

/// <summary>A page of alerts, newest first.</summary>
/// <param name="Status">Only firing or only resolved notifications.</param>
/// <param name="Matched">True: alerts that matched a runbook; false: unautomated ones.</param>
/// <param name="Source">Only this source.</param>
/// <param name="Outcome">Only this outcome.</param>
/// <param name="Limit">At most this many (1 to 500).</param>
/// <param name="Before">Only alerts older than this alert id (the cursor of the next page).</param>
public sealed record AlertQuery(AlertStatus? Status = null, bool? Matched = null, string? Source = null, AlertOutcome? Outcome = null, int Limit = 50, string? Before = null);

/// <summary>A runbook's circuit breaker as stored: open until a time, or reset by a person.</summary>
/// <param name="Runbook">The runbook.</param>
/// <param name="OpenedAt">When it last opened.</param>
/// <param name="OpenUntil">When it closes on its own.</param>
/// <param name="Reason">Why it opened.</param>
/// <param name="ResetBy">Who closed it by hand, if anyone.</param>
/// <param name="ResetAt">When they did; runs before this no longer count toward opening it.</param>
public sealed record BreakerRecord(string Runbook, DateTimeOffset? OpenedAt, DateTimeOffset? OpenUntil, string? Reason, string? ResetBy, DateTimeOffset? ResetAt);
