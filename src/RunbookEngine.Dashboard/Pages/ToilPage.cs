using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Toil;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>Toil in pictures: minutes saved and still spent by people, per week and per runbook; time to remediate; what to automate next.</summary>
internal static class ToilPage
{
    public static async Task<IResult> RenderAsync(HttpContext context, ToilReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var problems = new List<string>();
        var now = time.GetUtcNow();
        var since = RunsPage.ParseTime(context.Request.Query["from"], time, "from", problems) ?? now.AddDays(-84);
        var weeks = await reports.ReportAsync(since, now, ToilGrouping.Week, cancellationToken, withIncidents: false);
        var runbooks = await reports.ReportAsync(since, now, ToilGrouping.Runbook, cancellationToken);
        var next = await reports.UnautomatedAsync(since, now, cancellationToken);
        var total = weeks.Total;

        var body = new StringBuilder();
        foreach (var problem in problems)
        {
            body.Append(Notice(problem, error: true));
        }

        body.Append(CultureInfo.InvariantCulture, $"""
            <form class="filters" method="get"><label>Since<input name="from" value="{E(context.Request.Query["from"])}" placeholder="84d" size="12"></label><button type="submit">Show</button>
            <span class="muted">{When(since)} to {When(now)} · figures defined in the README, "Measuring toil"</span></form>
            <div class="grid" id="totals">
            {Card("Minutes saved", Num(total.MinutesSaved, "0"))}
            {Card("Human minutes", Num(total.HumanMinutes, "0"))}
            {Card("Runs", total.Runs.ToString(CultureInfo.InvariantCulture))}
            {Card("Success rate", total.SuccessRate is { } rate ? Num(rate * 100, "0") + "%" : "–")}
            {Card("Time to remediate p50 / p90", $"{Num(total.MedianMinutesToRemediate)} / {Num(total.P90MinutesToRemediate)} min")}
            </div>
            {Drills(total.Proposed, weeks.Drills)}
            <h2>Per week</h2>
            {Bars("weekly", weeks.Groups.Select(g => (g.Key, g.MinutesSaved, g.HumanMinutes)).ToList())}
            <h2>Per runbook</h2>
            {Bars("per-runbook", runbooks.Groups.OrderByDescending(g => g.MinutesSaved).Take(15).Select(g => (g.Key, g.MinutesSaved, g.HumanMinutes)).ToList())}
            <table id="toil-runbooks"><thead><tr><th>Runbook</th><th class="num">Runs</th><th class="num">Success</th><th class="num">Saved min</th><th class="num">Human min</th><th class="num">Automated min</th><th class="num">Alerts</th><th class="num">TTR p50</th><th class="num">TTR p90</th><th class="num">Resolve p50</th></tr></thead><tbody>
            """);
        foreach (var g in runbooks.Groups)
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr><td><a href="/runbooks/{E(g.Key)}">{E(g.Key)}</a></td><td class="num">{g.Runs}</td><td class="num">{(g.SuccessRate is { } r ? Num(r * 100, "0") + "%" : "–")}</td>
                <td class="num">{Num(g.MinutesSaved)}</td><td class="num">{Num(g.HumanMinutes)}</td><td class="num">{Num(g.AutomatedMinutes)}</td><td class="num">{g.Alerts}</td>
                <td class="num">{Num(g.MedianMinutesToRemediate)}</td><td class="num">{Num(g.P90MinutesToRemediate)}</td><td class="num">{Num(g.MedianMinutesToResolve)}</td></tr>
                """);
        }

        body.Append("</tbody></table>");
        if (runbooks.Incidents is { } incidents)
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <h2>Per incident (medians)</h2>
                <div class="grid" id="toil-incidents">
                {Card("Incidents (closed)", $"{incidents.Incidents} ({incidents.Closed})")}
                {Card("Detect", Num(incidents.MedianMinutesToDetect) + " min")}
                {Card("First action", Num(incidents.MedianMinutesToFirstAction) + " min")}
                {Card("Acknowledge", Num(incidents.MedianMinutesToAcknowledge) + " min")}
                {Card("Remediate", Num(incidents.MedianMinutesToRemediate) + " min")}
                {Card("Resolve", Num(incidents.MedianMinutesToResolve) + " min")}
                {Card("Human / automated", $"{Num(incidents.MedianHumanMinutes)} / {Num(incidents.MedianAutomatedMinutes)} min")}
                </div>
                """);
        }

        body.Append("<h2>What to automate next</h2>");
        body.Append(next.Count == 0
            ? "<p class=\"muted\" id=\"automate-next\">Every alert in this window matched a runbook.</p>"
            : "<table id=\"automate-next\"><thead><tr><th class=\"num\">#</th><th>Alert</th><th>Sources</th><th class=\"num\">Count</th><th class=\"num\">Min each</th><th class=\"num\">Est. minutes</th><th>Last seen</th></tr></thead><tbody>"
              + string.Concat(next.Select(a => $"<tr><td class=\"num\">{a.Rank}</td><td>{E(a.Alert)}</td><td>{E(string.Join(", ", a.Sources))}</td><td class=\"num\">{a.Count}</td><td class=\"num\">{Num(a.MinutesEach)}</td><td class=\"num\">{Num(a.EstimatedMinutes)}</td><td>{When(a.LastSeen)}</td></tr>"))
              + "</tbody></table>");
        return Page(context, "Toil", "Toil", body.ToString(), started);
    }

    /// <summary>Shadow proposals and drills, which save nothing and are not in the figures above; said so, so nobody looks for them there.</summary>
    private static string Drills(int proposed, DrillToil drills) =>
        proposed == 0 && drills.Runs == 0
            ? ""
            : $"<p class=\"muted\" id=\"drills\">Not in the savings: {proposed} shadow run(s) that proposed their first action; {drills.Runs} drill(s) ({drills.Proposed} proposed, {drills.Failed} failed), {Num(drills.AutomatedMinutes)} automated min, {Num(drills.HumanMinutes)} human min.</p>";

    private static string Card(string label, string value) => $"<div class=\"card\"><div class=\"label\">{E(label)}</div><div class=\"value\">{E(value)}</div></div>";

    /// <summary>Paired horizontal bars (saved, human) per key, scaled to the largest value; plain SVG.</summary>
    internal static string Bars(string id, IReadOnlyList<(string Key, double Saved, double Human)> rows)
    {
        if (rows.Count == 0)
        {
            return $"<p class=\"muted\" id=\"{id}\">No runs in this window.</p>";
        }

        const int Left = 170, Width = 520, Row = 30;
        var max = Math.Max(rows.Max(r => Math.Max(r.Saved, r.Human)), 1);
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg id=\"{id}\" role=\"img\" aria-label=\"minutes saved and human minutes\" width=\"{Left + Width + 80}\" height=\"{rows.Count * Row + 30}\" viewBox=\"0 0 {Left + Width + 80} {rows.Count * Row + 30}\">");
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#2e9b5b\"/><text x=\"{Left + 14}\" y=\"11\">minutes saved</text><rect x=\"{Left + 110}\" y=\"2\" width=\"10\" height=\"10\" fill=\"#e0a100\"/><text x=\"{Left + 124}\" y=\"11\">human minutes</text>");
        for (var i = 0; i < rows.Count; i++)
        {
            var (key, saved, human) = rows[i];
            var y = 20 + i * Row;
            var label = key.Length > 24 ? key[..24] + "…" : key;
            svg.Append(CultureInfo.InvariantCulture, $"""
                <text x="0" y="{y + 14}">{E(label)}</text>
                <rect x="{Left}" y="{y}" width="{Math.Max(saved, 0) / max * Width:0.#}" height="11" fill="#2e9b5b"><title>{E(key)}: {saved:0.##} minutes saved</title></rect>
                <text x="{Left + Math.Max(saved, 0) / max * Width + 4:0.#}" y="{y + 10}">{saved:0.##}</text>
                <rect x="{Left}" y="{y + 13}" width="{human / max * Width:0.#}" height="11" fill="#e0a100"><title>{E(key)}: {human:0.##} human minutes</title></rect>
                <text x="{Left + human / max * Width + 4:0.#}" y="{y + 23}">{human:0.##}</text>
                """);
        }

        svg.Append("</svg>");
        return svg.ToString();
    }
}
