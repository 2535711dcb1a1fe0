using System.Globalization;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Toil;

namespace RunbookEngine.Incidents;

/// <summary>
/// An incident's timeline, built on each read from what the store already records about its alerts, decisions, runs
/// and steps, so it can never disagree with them. Pure.
/// </summary>
public static class IncidentTimeline
{
    /// <summary>The actor of what the engine did on its own.</summary>
    public const string Automation = "automation";

    /// <summary>The longest step output excerpt on a timeline line.</summary>
    public const int ExcerptLength = 120;

    /// <summary>Every event of an incident, in time order (ties in the order they logically happen).</summary>
    /// <param name="facts">The incident's facts.</param>
    /// <returns>The events.</returns>
    public static IReadOnlyList<IncidentEvent> Of(IncidentFacts facts)
    {
        ArgumentNullException.ThrowIfNull(facts);
        var events = new List<IncidentEvent>();
        foreach (var alert in facts.Alerts)
        {
            var a = alert.Alert;
            events.Add(new(a.StartsAt, IncidentEventKinds.AlertStarted, a.Source, $"{a.Name} started{Where(a)}", alert.Id));
            events.Add(new(alert.ReceivedAt, IncidentEventKinds.AlertReceived, a.Source, $"{a.Name} received from {a.Source}", alert.Id));
            if (alert.Outcome == AlertOutcome.Unautomated)
            {
                events.Add(new(alert.ReceivedAt, IncidentEventKinds.Unautomated, Automation, $"{a.Name} matches no runbook: a person handles it", alert.Id));
            }

            if (alert.ResolvedAt is { } resolved)
            {
                events.Add(new(resolved, IncidentEventKinds.AlertResolved, a.Source, $"{a.Name} resolved", alert.Id));
            }
        }

        foreach (var (alertId, decision) in facts.Decisions)
        {
            var text = decision.Decision == AlertDecisionKind.Started
                ? $"{decision.Runbook}: started a run"
                : $"{decision.Runbook}: no run, {Guard(decision.Decision)}{(decision.Reason is { Length: > 0 } reason ? $" ({reason})" : "")}";
            events.Add(new(decision.DecidedAt, IncidentEventKinds.Decision, Automation, text, alertId, decision.RunId));
        }

        foreach (var run in facts.Runs)
        {
            var actor = run.Trigger == RunTrigger.Alert ? Automation : run.TriggeredBy;
            events.Add(run.RetryOf is { } retried
                ? new(run.QueuedAt, IncidentEventKinds.RunRetried, actor, $"{run.Runbook}: retry of run {retried} queued", run.AlertId, run.Id)
                : new(run.QueuedAt, IncidentEventKinds.RunQueued, actor, $"{run.Runbook}: run queued", run.AlertId, run.Id));
            if (run.BudgetGate is { } gate)
            {
                events.Add(new(gate.DecidedAt, IncidentEventKinds.BudgetGate, Automation, $"{run.Runbook}: budget gate: {gate.Reason}", run.AlertId, run.Id));
            }
            if (run.StartedAt is { } started)
            {
                events.Add(new(started, IncidentEventKinds.RunStarted, Automation, $"{run.Runbook}: run started{(run.Mode == RunMode.Auto ? "" : $" in {run.Mode.ToString().ToLowerInvariant()} mode")}", run.AlertId, run.Id));
            }

            foreach (var step in facts.Steps.GetValueOrDefault(run.Id) ?? [])
            {
                AddStep(events, run, step);
            }

            if (run.FinishedAt is { } finished)
            {
                events.Add(new(finished, IncidentEventKinds.RunEnded, Automation, $"{run.Runbook}: run {run.Status.ToString().ToLowerInvariant()}{(run.Error is { Length: > 0 } error ? $": {Excerpt(error)}" : "")}", run.AlertId, run.Id));
            }
        }

        if (facts.Incident is { State: IncidentState.Closed, ClosedAt: { } closed })
        {
            events.Add(new(closed, IncidentEventKinds.IncidentClosed, Automation, "incident closed: all its alerts resolved"));
        }

        return [.. events.Select((e, i) => (e, i)).OrderBy(x => x.e.At).ThenBy(x => x.i).Select(x => x.e)];
    }

    /// <summary>The end of a step's output, one line, at most <see cref="ExcerptLength"/> characters.</summary>
    /// <param name="output">The output as stored (the run's secrets already masked when it was written).</param>
    /// <returns>The excerpt, or empty.</returns>
    public static string Excerpt(string output)
    {
        ArgumentNullException.ThrowIfNull(output);
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        return last.Length <= ExcerptLength ? last : string.Concat("…", last.AsSpan(last.Length - ExcerptLength + 1));
    }

    private static void AddStep(List<IncidentEvent> events, RunRecord run, StepOutcome step)
    {
        var name = $"{run.Runbook} › {step.Name}";
        if (!ToilCalculator.IsHuman(step))
        {
            events.Add(new(step.StartedAt, IncidentEventKinds.StepStarted, Automation, $"{name} started", run.AlertId, run.Id, step.Sequence));
            if (step.FinishedAt is { } ended)
            {
                var excerpt = Excerpt(step.Error is { Length: > 0 } error ? error : step.Output);
                events.Add(new(ended, IncidentEventKinds.StepEnded, Automation,
                    $"{name} {step.Status.ToString().ToLowerInvariant()}{(step.Attempts > 1 ? string.Create(CultureInfo.InvariantCulture, $" after {step.Attempts} attempts") : "")}{(excerpt.Length > 0 ? $": {excerpt}" : "")}",
                    run.AlertId, run.Id, step.Sequence));
            }

            return;
        }

        var what = step.Kind == StepKind.Approval ? "approval" : "manual step";
        events.Add(new(step.StartedAt, IncidentEventKinds.StepStarted, Automation, $"{name}: waiting for a person ({what}{(step.Role is { } role ? $", role {role}" : "")})", run.AlertId, run.Id, step.Sequence));
        var person = IncidentFigures.IsPerson(step.Actor) ? step.Actor : null;
        if (step.PickedUpAt is { } picked)
        {
            events.Add(new(picked, IncidentEventKinds.StepPickedUp, person ?? "a person", $"{name} picked up", run.AlertId, run.Id, step.Sequence));
        }

        if (step.FinishedAt is { } answered)
        {
            var verdict = Verdict(step);
            events.Add(person is null
                ? new(answered, IncidentEventKinds.StepEnded, Automation, $"{name} {verdict}", run.AlertId, run.Id, step.Sequence)
                : new(answered, IncidentEventKinds.StepAnswered, person, $"{name} {verdict}{(step.Comment is { Length: > 0 } comment ? $": \"{Excerpt(comment)}\"" : "")}", run.AlertId, run.Id, step.Sequence));
        }
    }

    /// <summary>What became of a person's step, in words: approved, refused, done, not done, timed out...</summary>
    /// <param name="step">A Manual step or an approval.</param>
    /// <returns>The word.</returns>
    public static string Verdict(StepOutcome step)
    {
        ArgumentNullException.ThrowIfNull(step);
        return (step.Status, step.Kind) switch
        {
            (StepStatus.Succeeded, StepKind.Approval) => "approved",
            (StepStatus.Succeeded, _) => "done",
            (StepStatus.Failed, StepKind.Approval) => "refused",
            (StepStatus.Failed, _) => "not done",
            (StepStatus.WaitingForHuman, _) => "still waiting",
            _ => step.Status.ToString().ToLowerInvariant(),
        };
    }

    private static string Where(RunbookAlert alert) =>
        alert.Labels.TryGetValue("instance", out var instance) ? $" on {instance}" : alert.Labels.TryGetValue("service", out var service) ? $" on {service}" : "";

    private static string Guard(AlertDecisionKind kind) => kind switch
    {
        AlertDecisionKind.Suppressed => "circuit breaker open",
        AlertDecisionKind.Cooldown => "in cooldown",
        AlertDecisionKind.Busy => "target busy",
        AlertDecisionKind.InvalidParameters => "parameters missing or invalid",
        AlertDecisionKind.RunbookInvalid => "runbook cannot run",
        _ => kind.ToString().ToLowerInvariant(),
    };
}
