namespace RunbookEngine.Incidents;

/// <summary>One line of an incident's timeline.</summary>
/// <param name="At">When it happened.</param>
/// <param name="Kind">What happened, one of <see cref="IncidentEventKinds"/>.</param>
/// <param name="Actor">Who: a person's name, <c>automation</c>, or the sender (the alert source).</param>
/// <param name="Text">What happened, in words, with a short masked output excerpt for a step.</param>
/// <param name="AlertId">The alert it concerns, if any.</param>
/// <param name="RunId">The run it concerns, if any.</param>
/// <param name="Step">The step's position in the run, for a step event.</param>
public sealed record IncidentEvent(DateTimeOffset At, string Kind, string Actor, string Text, string? AlertId = null, string? RunId = null, int? Step = null);

/// <summary>
/// The kinds of timeline events. Strings rather than an enum so the list can grow (a budget gate's decision, a
/// notification) without breaking a client that switches over the ones it knows.
/// </summary>
public static class IncidentEventKinds
{
    /// <summary>The sender's start of an alert (its <c>startsAt</c>).</summary>
    public const string AlertStarted = "alert-started";

    /// <summary>The engine received an alert.</summary>
    public const string AlertReceived = "alert-received";

    /// <summary>Matching decided what one runbook does about an alert: started a run, or which guard stopped it.</summary>
    public const string Decision = "decision";

    /// <summary>An alert matched no runbook.</summary>
    public const string Unautomated = "unautomated";

    /// <summary>A run was recorded and queued.</summary>
    public const string RunQueued = "run-queued";

    /// <summary>A runbook's budget gate decided, as the run was queued, whether its SLO's budget lets it act alone.</summary>
    public const string BudgetGate = "budget-gate";

    /// <summary>A retry of a failed run was queued.</summary>
    public const string RunRetried = "run-retried";

    /// <summary>A run's first execution started.</summary>
    public const string RunStarted = "run-started";

    /// <summary>A run ended.</summary>
    public const string RunEnded = "run-ended";

    /// <summary>A step started (for a person's step: began waiting for them).</summary>
    public const string StepStarted = "step-started";

    /// <summary>An automated step ended.</summary>
    public const string StepEnded = "step-ended";

    /// <summary>A person picked up a step.</summary>
    public const string StepPickedUp = "step-picked-up";

    /// <summary>A person answered a step: done or approved, or refused.</summary>
    public const string StepAnswered = "step-answered";

    /// <summary>An alert's resolved notification (the sender's end time).</summary>
    public const string AlertResolved = "alert-resolved";

    /// <summary>The incident closed: its last alert resolved.</summary>
    public const string IncidentClosed = "incident-closed";
}
