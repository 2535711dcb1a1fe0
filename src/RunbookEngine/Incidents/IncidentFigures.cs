using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Toil;

namespace RunbookEngine.Incidents;

/// <summary>
/// An incident's figures (README, "Incidents and postmortems", defines each). A figure whose event has not happened is
/// null. The error-budget half adds the budget the automation saved here.
/// </summary>
/// <param name="StartedAt">The sender's start of its earliest alert.</param>
/// <param name="DetectedAt">When the engine received its first alert.</param>
/// <param name="TimeToDetect">Start to first received.</param>
/// <param name="TimeToFirstAction">First received to the first run's start.</param>
/// <param name="TimeToAcknowledge">First received to the first time a person picked up (or answered) a step.</param>
/// <param name="TimeToRemediate">Start to the end of the first run that succeeded and could act.</param>
/// <param name="TimeToResolve">Start to the last resolution, once the incident has closed.</param>
/// <param name="HumanMinutes">Minutes people spent on the runs' Manual steps and approvals.</param>
/// <param name="AutomatedMinutes">Minutes the engine worked on the runs, less the time they waited for people.</param>
/// <param name="Alerts">Its firing alerts.</param>
/// <param name="UnautomatedAlerts">Of those, the ones no runbook matched.</param>
/// <param name="Runs">Runs its alerts started, retries included.</param>
/// <param name="SucceededRuns">Of those, the ones that succeeded.</param>
public sealed record IncidentFigures(
    DateTimeOffset StartedAt,
    DateTimeOffset DetectedAt,
    TimeSpan TimeToDetect,
    TimeSpan? TimeToFirstAction,
    TimeSpan? TimeToAcknowledge,
    TimeSpan? TimeToRemediate,
    TimeSpan? TimeToResolve,
    double HumanMinutes,
    double AutomatedMinutes,
    int Alerts,
    int UnautomatedAlerts,
    int Runs,
    int SucceededRuns)
{
    /// <summary>Computes the figures from the store's facts. Pure.</summary>
    /// <param name="facts">The incident's alerts, runs and journals.</param>
    /// <returns>The figures; an incident without alerts (all deleted by retention) dates from its opening.</returns>
    public static IncidentFigures Of(IncidentFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var incident = facts.Incident;
        var start = facts.Totals?.FirstStartsAt ?? (facts.Alerts.Count == 0 ? incident.OpenedAt : facts.Alerts.Min(a => a.Alert.StartsAt));
        var detected = facts.Totals?.FirstReceivedAt ?? (facts.Alerts.Count == 0 ? incident.OpenedAt : facts.Alerts.Min(a => a.ReceivedAt));
        var firstRun = facts.Runs.Where(r => r.StartedAt is not null).Select(r => r.StartedAt!.Value).DefaultIfEmpty().Min();
        var steps = facts.Runs.SelectMany(r => facts.Steps.GetValueOrDefault(r.Id) ?? []).ToList();
        var pickups = steps.Where(ToilCalculator.IsHuman).Select(FirstTouch).OfType<DateTimeOffset>().ToList();
        var remediated = facts.Runs
            .Where(r => r is { Status: RunStatus.Succeeded, FinishedAt: not null } && ToilCalculator.Acted(r.Trigger, r.Mode))
            .Select(r => r.FinishedAt!.Value).DefaultIfEmpty().Min();
        var human = 0.0;
        var automated = 0.0;
        foreach (var run in facts.Runs)
        {
            var toil = ToilCalculator.ForRun(run.Status, run.StartedAt, run.FinishedAt, run.ManualMinutes, facts.Steps.GetValueOrDefault(run.Id) ?? [], ToilCalculator.Acted(run.Trigger, run.Mode));
            human += toil.HumanMinutes;
            automated += toil.AutomatedMinutes;
        }

        return new IncidentFigures(
            start,
            detected,
            NotNegative(detected - start),
            firstRun == default ? null : NotNegative(firstRun - detected),
            pickups.Count == 0 ? null : NotNegative(pickups.Min() - detected),
            remediated == default ? null : NotNegative(remediated - start),
            incident is { State: IncidentState.Closed, ClosedAt: { } closed } ? NotNegative(closed - start) : null,
            Math.Round(human, 2),
            Math.Round(automated, 2),
            facts.Totals?.Count ?? facts.Alerts.Count,
            facts.Totals?.Unautomated ?? facts.Alerts.Count(a => a.Outcome == RunbookEngine.Alerts.AlertOutcome.Unautomated),
            facts.Runs.Count,
            facts.Runs.Count(r => r.Status == RunStatus.Succeeded));
    }

    /// <summary>When a person first touched a step: picked it up, else answered it.</summary>
    /// <param name="step">A Manual step or an approval.</param>
    /// <returns>The time, or null when no person touched it.</returns>
    public static DateTimeOffset? FirstTouch(StepOutcome step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return step.PickedUpAt ?? (IsPerson(step.Actor) && step.Status is StepStatus.Succeeded or StepStatus.Failed ? step.FinishedAt : null);
    }

    /// <summary>Whether an actor is a person rather than the engine.</summary>
    /// <param name="actor">The recorded actor.</param>
    /// <returns>True for a person's name.</returns>
    public static bool IsPerson(string? actor) => actor is { Length: > 0 } && actor != StepOutcome.MachineActor;

    // A sender whose clock runs ahead of ours would give a negative time to detect; it counts as instant.
    private static TimeSpan NotNegative(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;
}
