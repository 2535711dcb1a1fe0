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
    IReadOnlyDictionary<string, IReadOnlyList<StepOutcome>> Steps);
