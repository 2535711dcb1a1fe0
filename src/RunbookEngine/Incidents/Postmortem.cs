using System.Globalization;
using System.Text;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Toil;

namespace RunbookEngine.Incidents;

/// <summary>
/// A blameless postmortem draft of an incident: what happened and what was done, said of the system and the process,
/// never of a person's fault. The JSON and the Markdown are the same object, so they cannot disagree.
/// </summary>
/// <param name="IncidentId">The incident.</param>
/// <param name="Title">The incident's title.</param>
/// <param name="Summary">One paragraph.</param>
/// <param name="Impact">The impact, a line each: start, detection, resolution, alerts, services.</param>
/// <param name="Timeline">The timeline, at most <see cref="MaxTimeline"/> events.</param>
/// <param name="TimelineOmitted">How many later events the draft leaves out (the API's incident entry has them all).</param>
/// <param name="Automation">What the automation did, a line per run.</param>
/// <param name="People">What still needed people, a line per human step a person answered or left waiting.</param>
/// <param name="FollowUps">Follow-ups, from the human steps and the alerts no runbook handled.</param>
/// <param name="Figures">The incident's figures.</param>
public sealed record Postmortem(
    string IncidentId,
    string Title,
    string Summary,
    IReadOnlyList<string> Impact,
    IReadOnlyList<IncidentEvent> Timeline,
    int TimelineOmitted,
    IReadOnlyList<string> Automation,
    IReadOnlyList<string> People,
    IReadOnlyList<string> FollowUps,
    IncidentFigures Figures)
{
    /// <summary>The most timeline events a draft lists.</summary>
    public const int MaxTimeline = 200;

    /// <summary>Writes the draft from an incident's facts.</summary>
    /// <param name="facts">The facts.</param>
    /// <param name="figures">Their figures.</param>
    /// <param name="timeline">Their timeline.</param>
    /// <returns>The draft.</returns>
    public static Postmortem Of(IncidentFacts facts, IncidentFigures figures, IReadOnlyList<IncidentEvent> timeline)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(figures);
        ArgumentNullException.ThrowIfNull(timeline);
        var incident = facts.Incident;
        var names = facts.Alerts.Select(a => a.Alert.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var sources = facts.Alerts.Select(a => a.Alert.Source).Distinct(StringComparer.Ordinal).ToList();
        var humanSteps = facts.Runs.SelectMany(r => (facts.Steps.GetValueOrDefault(r.Id) ?? []).Where(ToilCalculator.IsHuman).Select(s => (Run: r, Step: s))).ToList();
        var people = humanSteps.Select(h => h.Step.Actor).Where(IncidentFigures.IsPerson).Distinct(StringComparer.Ordinal).Count();

        var summary = new StringBuilder();
        summary.Append(CultureInfo.InvariantCulture, $"{E(incident.Title)}{(incident.Service is { } service ? $" on {E(service)}" : "")}: ");
        summary.Append(CultureInfo.InvariantCulture, $"{Count(figures.Alerts, "alert")} ({string.Join(", ", names.Take(5).Select(E))}{(names.Count > 5 ? ", …" : "")}) from {string.Join(", ", sources.Select(E))}, ");
        summary.Append(CultureInfo.InvariantCulture, $"started {Time(figures.StartedAt)} and detected {Duration(figures.TimeToDetect)} later. ");
        summary.Append(CultureInfo.InvariantCulture, $"The automation started {Count(figures.Runs, "run")} ({figures.SucceededRuns} succeeded)");
        summary.Append(people == 0
            ? " and no person had to act. "
            : $"; {Count(people, "person", "people")} answered {Count(humanSteps.Count(h => IncidentFigures.IsPerson(h.Step.Actor)), "step")}. ");
        summary.Append(incident.State == IncidentState.Closed
            ? $"It was resolved {Duration(figures.TimeToResolve!.Value)} after it started."
            : "It is still open.");

        var impact = new List<string>
        {
            $"Started: {Time(figures.StartedAt)} (the sender's start of the first alert)",
            $"Detected: {Time(figures.DetectedAt)} (time to detect {Duration(figures.TimeToDetect)})",
            $"First action: {Optional(figures.TimeToFirstAction, "after detection", "no run started")}",
            $"Acknowledged by a person: {Optional(figures.TimeToAcknowledge, "after detection", "no person was needed")}",
            $"Remediated: {Optional(figures.TimeToRemediate, "after the start", "no run succeeded")}",
            incident.ClosedAt is { } closed && figures.TimeToResolve is { } resolve ? $"Resolved: {Time(closed)} (time to resolve {Duration(resolve)})" : "Resolved: not yet",
            $"Alerts: {figures.Alerts} ({figures.UnautomatedAlerts} matched no runbook)",
            string.Create(CultureInfo.InvariantCulture, $"Work: {figures.AutomatedMinutes:0.##} automated minutes, {figures.HumanMinutes:0.##} human minutes"),
        };

        var automation = facts.Runs.Select(run =>
        {
            var steps = facts.Steps.GetValueOrDefault(run.Id) ?? [];
            var done = steps.Where(s => !ToilCalculator.IsHuman(s)).Select(s => $"{E(s.Name)} ({s.Status.ToString().ToLowerInvariant()})");
            var took = run is { StartedAt: { } s, FinishedAt: { } f } ? $" in {Duration(f - s)}" : "";
            return $"{C(run.Runbook)} run {E(run.Id)}{(run.RetryOf is { } of ? $" (retry of {E(of)})" : "")}: {run.Status.ToString().ToLowerInvariant()}{took}; steps: {string.Join(", ", done.DefaultIfEmpty("none"))}";
        }).ToList();

        var needed = humanSteps.Select(h =>
        {
            var touched = IncidentFigures.IsPerson(h.Step.Actor);
            var what = h.Step.Kind == StepKind.Approval ? "approval" : "manual step";
            var minutes = ToilCalculator.HumanMinutes(h.Step);
            return touched
                ? string.Create(CultureInfo.InvariantCulture, $"{C(h.Run.Runbook)} › {E(h.Step.Name)} ({what}): {E(IncidentTimeline.Verdict(h.Step))} by {E(h.Step.Actor)}, {minutes:0.##} minutes")
                : $"{C(h.Run.Runbook)} › {E(h.Step.Name)} ({what}): {E(IncidentTimeline.Verdict(h.Step))}, no person answered";
        }).ToList();

        var followUps = new List<string>();
        // An approval a person refused or let time out did its job; only one given is a candidate for going without.
        foreach (var group in humanSteps
            .Where(h => h.Step.Kind != StepKind.Approval || (h.Step.Status == StepStatus.Succeeded && IncidentFigures.IsPerson(h.Step.Actor)))
            .GroupBy(h => (h.Run.Runbook, h.Step.Name, h.Step.Kind)))
        {
            followUps.Add(group.Key.Kind == StepKind.Approval
                ? $"Decide whether {C(group.Key.Runbook)} still needs the approval \"{E(group.Key.Name)}\": if its record is good, let it act without one."
                : $"Automate the manual step \"{E(group.Key.Name)}\" of {C(group.Key.Runbook)}.");
        }

        foreach (var name in facts.Alerts.Where(a => a.Outcome == AlertOutcome.Unautomated).Select(a => a.Alert.Name).Distinct(StringComparer.Ordinal))
        {
            followUps.Add($"Write a runbook for the alert {C(name)}: no runbook matched it, so a person handled it.");
        }

        foreach (var (alertId, decision) in facts.Decisions.Where(d => d.Decision.Decision != AlertDecisionKind.Started).DistinctBy(d => (d.Decision.Runbook, d.Decision.Decision)))
        {
            followUps.Add($"Review why {C(decision.Runbook)} did not run ({decision.Decision}{(decision.Reason is { Length: > 0 } r ? $": {E(r)}" : "")}).");
        }

        foreach (var run in facts.Runs.Where(r => r.Status is RunStatus.Failed or RunStatus.TimedOut).DistinctBy(r => r.Runbook))
        {
            followUps.Add($"Find out why {C(run.Runbook)} {run.Status.ToString().ToLowerInvariant()} (run {E(run.Id)}) and make it hold next time.");
        }

        return new Postmortem(incident.Id, incident.Title, summary.ToString(), impact, [.. timeline.Take(MaxTimeline)], Math.Max(0, timeline.Count - MaxTimeline),
            automation, needed, followUps, figures);
    }

    /// <summary>The draft as Markdown, with the section headings the issue tracker templates expect.</summary>
    /// <returns>The Markdown.</returns>
    public string ToMarkdown()
    {
        var md = new StringBuilder();
        md.Append(CultureInfo.InvariantCulture, $"# Postmortem: {E(Title)}\n\n");
        md.Append(CultureInfo.InvariantCulture, $"_A blameless draft written by RunbookEngine from incident {E(IncidentId)}; edit it before you share it._\n\n");
        md.Append("## Summary\n\n").Append(Summary).Append("\n\n");
        md.Append("## Impact\n\n");
        Lines(md, Impact);
        md.Append("## Timeline\n\n| time (UTC) | who | what |\n|---|---|---|\n");
        foreach (var e in Timeline)
        {
            md.Append(CultureInfo.InvariantCulture, $"| {Time(e.At)} | {Cell(e.Actor)} | {Cell(e.Text)} |\n");
        }

        if (TimelineOmitted > 0)
        {
            md.Append(CultureInfo.InvariantCulture, $"\n…and {TimelineOmitted} more events (the incident's API entry lists them all).\n");
        }

        md.Append("\n## What the automation did\n\n");
        Lines(md, Automation, "Nothing: no runbook ran for this incident.");
        md.Append("## What still needed people\n\n");
        Lines(md, People, "Nothing: no step waited for a person.");
        md.Append("## Follow-ups\n\n");
        Lines(md, FollowUps.Select(f => $"[ ] {f}").ToList(), "None suggested.");
        return md.ToString().TrimEnd('\n') + "\n";
    }

    /// <summary>A time as the drafts write it: UTC, to the second.</summary>
    /// <param name="at">The time.</param>
    /// <returns>The text.</returns>
    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>A duration as the drafts write it: <c>45 s</c>, <c>3 min 5 s</c>, <c>2 h 10 min</c>.</summary>
    /// <param name="span">The duration.</param>
    /// <returns>The text.</returns>
    public static string Duration(TimeSpan span) => span.TotalSeconds < 60
        ? string.Create(CultureInfo.InvariantCulture, $"{Math.Floor(span.TotalSeconds):0} s")
        : span.TotalHours < 1
            ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min {span.Seconds} s")
            : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h {span.Minutes} min");

    private static string Optional(TimeSpan? span, string after, string otherwise) => span is { } value ? $"{Duration(value)} {after}" : otherwise;

    private static string Count(int n, string one, string? many = null) => string.Create(CultureInfo.InvariantCulture, $"{n} {(n == 1 ? one : many ?? one + "s")}");

    private static string Cell(string text) => MarkdownText.Escape(text);

    private static string E(string? text) => MarkdownText.Escape(text);

    private static string C(string? text) => MarkdownText.Code(text);

    private static void Lines(StringBuilder md, IReadOnlyList<string> lines, string? none = null)
    {
        if (lines.Count == 0 && none is not null)
        {
            md.Append(none).Append("\n\n");
            return;
        }

        foreach (var line in lines)
        {
            md.Append("- ").Append(line).Append('\n');
        }

        md.Append('\n');
    }
}
