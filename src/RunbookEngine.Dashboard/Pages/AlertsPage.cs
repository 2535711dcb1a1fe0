using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Alerts;
using RunbookEngine.Storage;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>Recent alerts, and what each started, or why it started nothing.</summary>
internal static class AlertsPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, IAlertStore alerts, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var q = context.Request.Query;
        AlertOutcome? outcome = Enum.TryParse<AlertOutcome>(q["outcome"], ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) ? parsed : null;
        var page = await alerts.ListAlertsAsync(new AlertQuery(Outcome: outcome, Limit: 50, Before: string.IsNullOrEmpty(q["before"]) ? null : q["before"].ToString()), cancellationToken);
        var body = new StringBuilder("<form class=\"filters\" method=\"get\"><label>Outcome<select name=\"outcome\"><option value=\"\">any</option>");
        foreach (var name in Enum.GetNames<AlertOutcome>())
        {
            body.Append(CultureInfo.InvariantCulture, $"<option{(name == outcome?.ToString() ? " selected" : "")}>{name}</option>");
        }

        body.Append("</select></label><button type=\"submit\">Filter</button></form>");
        body.Append("""<table id="alerts"><thead><tr><th>Received (UTC)</th><th>Alert</th><th>Source</th><th>Status</th><th>Outcome</th><th>What happened</th></tr></thead><tbody>""");
        foreach (var alert in page)
        {
            var decisions = await alerts.GetDecisionsAsync(alert.Id, cancellationToken);
            var what = decisions.Count == 0
                ? E(alert.Detail ?? (alert.DuplicateOf is { } first ? "a resend of " + first : ""))
                : string.Join("<br>", decisions.Select(d => $"{E(d.Runbook)}: {Badge(d.Decision.ToString())}{(d.RunId is { } run ? $" <a href=\"/runs/{E(run)}\" class=\"mono\">{E(run[^12..])}</a>" : "")} {E(d.Reason)}"));
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-alert="{E(alert.Id)}"><td>{When(alert.ReceivedAt)}</td><td>{E(alert.Alert.Name)}<div class="muted mono">{E(string.Join(", ", alert.Alert.Labels.Where(l => l.Key != "alertname").Take(4).Select(l => $"{l.Key}={l.Value}")))}</div></td>
                <td>{E(alert.Alert.Source)}{(alert.IncidentId is { } incident ? $"<div><a href=\"/incidents/{U(incident)}\">incident</a></div>" : "")}</td><td>{E(alert.Alert.Status.ToString())}{(alert.ResolvedAt is { } r ? "<div class=\"muted\">resolved " + When(r) + "</div>" : "")}</td><td>{Badge(alert.Outcome.ToString())}</td><td>{what}</td></tr>
                """);
        }

        if (page.Count == 0)
        {
            body.Append("""<tr><td colspan="6" class="muted">No alerts.</td></tr>""");
        }

        body.Append("</tbody></table>");
        if (page.Count == 50)
        {
            body.Append(CultureInfo.InvariantCulture, $"<div class=\"pager\"><a href=\"/alerts?outcome={U(outcome?.ToString())}&before={U(page[^1].Id)}\">Older →</a></div>");
        }

        return Page(context, "Alerts", "Alerts", body.ToString(), started);
    }
}
