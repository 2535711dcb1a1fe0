using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;

namespace RunbookEngine.Incidents;

/// <summary>What the store knows about an incident: the truth its timeline and figures are computed from on each read.</summary>
/// <param name="Incident">The incident.</param>
/// <param name="Alerts">Its firing alerts, oldest first.</param>
/// <param name="Decisions">What matching decided for each of them (by alert id).</param>
/// <param name="Runs">The runs its alerts started, retries included, oldest first.</param>
/// <param name="Steps">Each run's journal (by run id).</param>
public sealed record IncidentFacts(
    IncidentRecord Incident,
    IReadOnlyList<AlertRecord> Alerts,
    IReadOnlyList<(string AlertId, AlertDecision Decision)> Decisions,
    IReadOnlyList<RunRecord> Runs,
    IReadOnlyDictionary<string, IReadOnlyList<StepOutcome>> Steps)
{
    /// <summary>The most decisions a read of an incident holds (the earliest).</summary>
    public const int MaxDecisions = 2000;

    /// <summary>The most runs a read of an incident holds (the earliest queued); their steps come with them.</summary>
    public const int MaxRuns = 1000;

    /// <summary>How much of the end of each step's output a read holds: enough for the timeline's excerpt of its last line.</summary>
    public const int OutputTail = 2000;

    /// <summary>Counts and first times over all its alerts, when <see cref="Alerts"/> holds only the earliest of them.</summary>
    public AlertTotals? Totals { get; init; }

    /// <summary>Whether <see cref="Alerts"/> leaves some of its alerts out.</summary>
    public bool AlertsCut => Totals is { } totals && totals.Count > Alerts.Count;
}

/// <summary>What the figures need of all of an incident's alerts, read as one aggregate.</summary>
/// <param name="Count">Its firing alerts.</param>
/// <param name="Unautomated">Of those, the ones no runbook matched.</param>
/// <param name="FirstStartsAt">The earliest sender's start.</param>
/// <param name="FirstReceivedAt">The earliest arrival.</param>
public sealed record AlertTotals(int Count, int Unautomated, DateTimeOffset? FirstStartsAt, DateTimeOffset? FirstReceivedAt);
