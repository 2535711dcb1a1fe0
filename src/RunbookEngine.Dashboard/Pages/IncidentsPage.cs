using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Incidents;
using RunbookEngine.Storage;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>Incidents, and one incident's story: its figures, alerts, runs and timeline drawn top to bottom.</summary>
internal static class IncidentsPage
{
    /// <summary>The most alerts an incident page lists; the figures and the counts still take them all.</summary>
    internal const int AlertsShown = 50;

    /// <summary>The most alerts an incident page reads to draw its timeline; the rest are in the API.</summary>
    internal const int MaxAlertsRead = 200;

    /// <summary>The most runs an incident page lists.</summary>
    internal const int RunsShown = 200;

    /// <summary>The most timeline events an incident page draws; a big incident says how many more there are.</summary>
    internal const int EventsShown = 300;

    private const string TimelineStyle = """
        <style>
        ol.timeline { list-style: none; margin: 0 0 16px; padding: 0 0 0 18px; border-left: 2px solid var(--line); }
        ol.timeline li { position: relative; margin: 0 0 10px; padding-left: 10px; }
        ol.timeline li::before { content: ""; position: absolute; left: -25px; top: 5px; width: 10px; height: 10px; border-radius: 50%; background: var(--muted); }
        ol.timeline li.k-alert-started::before, ol.timeline li.k-alert-received::before { background: #d92d20; }
        ol.timeline li.k-alert-resolved::before, ol.timeline li.k-incident-closed::before { background: #12b76a; }
        ol.timeline li.k-step-picked-up::before, ol.timeline li.k-step-answered::before { background: #f79009; }
        ol.timeline li.k-run-queued::before, ol.timeline li.k-run-started::before, ol.timeline li.k-run-ended::before, ol.timeline li.k-run-retried::before { background: var(--accent); }
        ol.timeline .actor { font-weight: 600; }
        </style>
        """;

    public static async Task<IResult> ListAsync(HttpContext context, IIncidentStore incidents, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var q = context.Request.Query;
        IncidentState? state = Enum.TryParse<IncidentState>(q["state"], ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : null;
        var service = string.IsNullOrEmpty(q["service"]) ? null : q["service"].ToString();
        var page = await incidents.ListIncidentsAsync(new IncidentQuery(state, service, Limit: 50, Before: string.IsNullOrEmpty(q["before"]) ? null : q["before"].ToString()), cancellationToken);
        var body = new StringBuilder("<form class=\"filters\" method=\"get\"><label>State<select name=\"state\"><option value=\"\">any</option>");
        foreach (var name in new[] { "open", "closed" })
        {
            body.Append(CultureInfo.InvariantCulture, $"<option{(string.Equals(name, state?.ToString(), StringComparison.OrdinalIgnoreCase) ? " selected" : "")}>{name}</option>");
        }

        body.Append(CultureInfo.InvariantCulture, $"</select></label><label>Service<input name=\"service\" value=\"{E(service)}\"></label><button type=\"submit\">Filter</button></form>");
        body.Append("""<table id="incidents"><thead><tr><th>Opened (UTC)</th><th>Incident</th><th>Service</th><th>State</th><th>Alerts</th><th>Lasted</th></tr></thead><tbody>""");
        foreach (var incident in page)
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-incident="{E(incident.Id)}"><td>{When(incident.OpenedAt)}</td><td><a href="/incidents/{U(incident.Id)}">{E(incident.Title)}</a><div class="muted mono">{E(incident.GroupRule)}</div></td>
                <td>{E(incident.Service ?? "–")}</td><td>{Badge(incident.State.ToString())}</td><td>{incident.Alerts}</td><td>{(incident.ClosedAt is null ? "open" : Took(incident.OpenedAt, incident.ClosedAt))}</td></tr>
                """);
        }

        if (page.Count == 0)
        {
            body.Append("""<tr><td colspan="6" class="muted">No incidents.</td></tr>""");
        }

        body.Append("</tbody></table>");
        if (page.Count == 50)
        {
            body.Append(CultureInfo.InvariantCulture, $"<div class=\"pager\"><a href=\"/incidents?state={U(state?.ToString())}&service={U(service)}&before={U(page[^1].Id)}\">Older →</a></div>");
        }

        return Page(context, "Incidents", "Incidents", body.ToString(), started);
    }

    public static async Task<IResult> DetailAsync(string id, HttpContext context, IncidentReport report, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        // The earliest alerts are enough for what the page draws; the figures come from aggregates over all of them.
        if (await report.GetAsync(id, cancellationToken, MaxAlertsRead) is not { } detail)
        {
            return Page(context, "Incident not found", "Incidents", $"<p>No incident {E(id)}.</p>", started);
        }

        var (facts, figures, timeline) = (detail.Facts, detail.Figures, detail.Timeline);
        var incident = facts.Incident;
        var body = new StringBuilder();
        body.Append(CultureInfo.InvariantCulture, $"""
            <dl class="facts" id="incident">
            <dt>State</dt><dd>{Badge(incident.State.ToString())} opened {When(incident.OpenedAt)}{(incident.ClosedAt is { } closed ? ", closed " + When(closed) : "")}</dd>
            <dt>Service</dt><dd>{E(incident.Service ?? "–")}</dd>
            <dt>Grouped by</dt><dd class="mono">{E(incident.GroupRule)}: {E(incident.GroupKey)}</dd>
            <dt>Postmortem</dt><dd><a href="/api/incidents/{U(incident.Id)}/postmortem.md">draft (Markdown)</a></dd>
            </dl>
            <h2>Figures</h2>
            <dl class="facts" id="figures">
            <dt>Started</dt><dd>{When(figures.StartedAt)}</dd>
            <dt>Time to detect</dt><dd>{Span(figures.TimeToDetect)}</dd>
            <dt>Time to first action</dt><dd>{Span(figures.TimeToFirstAction)}</dd>
            <dt>Time to acknowledge</dt><dd>{Span(figures.TimeToAcknowledge)}</dd>
            <dt>Time to remediate</dt><dd>{Span(figures.TimeToRemediate)}</dd>
            <dt>Time to resolve</dt><dd>{Span(figures.TimeToResolve)}</dd>
            <dt>Minutes</dt><dd>{Num(figures.AutomatedMinutes)} automated, {Num(figures.HumanMinutes)} human</dd>
            <dt>Alerts and runs</dt><dd>{figures.Alerts} alerts ({figures.UnautomatedAlerts} unautomated), {figures.Runs} runs ({figures.SucceededRuns} succeeded)</dd>
            </dl>
            """);

        body.Append("""<h2>Alerts</h2><table id="incident-alerts"><thead><tr><th>Received (UTC)</th><th>Alert</th><th>Source</th><th>Outcome</th><th>Resolved</th></tr></thead><tbody>""");
        foreach (var alert in facts.Alerts.Take(AlertsShown))
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-alert="{E(alert.Id)}"><td>{When(alert.ReceivedAt)}</td><td>{E(alert.Alert.Name)}<div class="muted mono">{E(string.Join(", ", alert.Alert.Labels.Where(l => l.Key != "alertname").Take(4).Select(l => $"{l.Key}={l.Value}")))}</div></td>
                <td>{E(alert.Alert.Source)}</td><td>{Badge(alert.Outcome.ToString())}</td><td>{(alert.ResolvedAt is { } r ? When(r) : "–")}</td></tr>
                """);
        }

        body.Append("</tbody></table>");
        More(body, figures.Alerts - Math.Min(AlertsShown, facts.Alerts.Count), "alerts", $"/api/incidents/{U(incident.Id)}");

        body.Append("""<h2>Runs</h2><table id="incident-runs"><thead><tr><th>Queued (UTC)</th><th>Run</th><th>Runbook</th><th>Status</th><th>Took</th></tr></thead><tbody>""");
        foreach (var run in facts.Runs.Take(RunsShown))
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-run="{E(run.Id)}"><td>{When(run.QueuedAt)}</td><td><a href="/runs/{U(run.Id)}" class="mono">{E(run.Id[^12..])}</a></td><td>{E(run.Runbook)}</td><td>{Badge(run.Status.ToString())}</td><td>{Took(run.StartedAt, run.FinishedAt)}</td></tr>
                """);
        }

        if (facts.Runs.Count == 0)
        {
            body.Append("""<tr><td colspan="5" class="muted">No runbook ran for this incident.</td></tr>""");
        }

        body.Append("</tbody></table>");
        More(body, facts.Runs.Count - RunsShown, "runs", $"/api/incidents/{U(incident.Id)}");

        body.Append("<h2>Timeline</h2><ol class=\"timeline\" id=\"timeline\">");
        foreach (var e in timeline.Take(EventsShown))
        {
            var link = e.RunId is { } runId ? $" <a href=\"/runs/{U(runId)}\" class=\"mono\">{E(runId[^Math.Min(12, runId.Length)..])}</a>" : "";
            body.Append(CultureInfo.InvariantCulture, $"""<li class="k-{E(e.Kind)}"><span class="muted">{When(e.At)}</span> <span class="actor">{E(e.Actor)}</span> {E(e.Text)}{link}</li>""");
        }

        body.Append("</ol>");
        if (facts.AlertsCut)
        {
            body.Append(CultureInfo.InvariantCulture, $"<p class=\"muted more\">The timeline shows the events of the first {facts.Alerts.Count} alerts received and of every run; <a href=\"/api/incidents/{U(incident.Id)}\">the API has all {figures.Alerts}</a>.</p>");
        }

        More(body, timeline.Count - EventsShown, "events", $"/api/incidents/{U(incident.Id)}");
        return Page(context, incident.Title, "Incidents", body.ToString(), started, TimelineStyle);
    }

    private static string Span(TimeSpan? span) => span is { } value ? E(Postmortem.Duration(value)) : "–";

    private static void More(StringBuilder body, int more, string what, string href)
    {
        if (more > 0)
        {
            body.Append(CultureInfo.InvariantCulture, $"<p class=\"muted more\">…and {more} more {what} (<a href=\"{href}\">all in the API</a>).</p>");
        }
    }
}
