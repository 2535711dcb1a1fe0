using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Alerts;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Trust.Freshness;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>The runbooks: what each is for, what starts it, whether it compiles, how it has been doing; and a form to start one.</summary>
internal static class RunbooksPage
{
    public static async Task<IResult> ListAsync(
        HttpContext context, RunbookCatalog catalog, IRunStore store, CircuitBreakers breakers, FreshnessReader freshness, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var states = (await breakers.ListAsync(cancellationToken)).ToDictionary(b => b.Runbook, StringComparer.Ordinal);
        var fresh = await freshness.ForAllAsync(cancellationToken);
        var body = new StringBuilder("""<table id="runbooks"><thead><tr><th>Runbook</th><th>Started by</th><th>Next run (UTC)</th><th>Version</th><th>Valid</th><th>Freshness</th><th>Last runs</th><th class="num">Success</th><th>Breaker</th></tr></thead><tbody>""");
        foreach (var entry in catalog.Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            var recent = await store.ListRunsAsync(new RunQuery(entry.Name, Limit: 20), cancellationToken);
            var ended = recent.Where(r => r.IsTerminal).ToList();
            var d = entry.Definition;
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-runbook="{E(entry.Name)}"><td><a href="/runbooks/{E(entry.Name)}">{E(entry.Name)}</a><div class="muted">{E(d?.Description)}</div></td>
                <td>{Triggers(d)}</td><td>{When(d?.Schedule?.NextOccurrence(time.GetUtcNow()))}</td>
                <td class="mono">{E(entry.ContentHash[..12])}{(entry.Commit is { } c ? "<div class=\"muted\">" + E(c[..Math.Min(12, c.Length)]) + "</div>" : "")}</td>
                <td>{Validity(entry)}</td>
                <td class="freshness">{FreshnessBadge(fresh.GetValueOrDefault(entry.Name))}</td>
                <td>{string.Concat(recent.Take(8).Select(r => $"<a href=\"/runs/{E(r.Id)}\" title=\"{E(r.Status.ToString())}\">{Dot(r.Status)}</a>"))}</td>
                <td class="num">{(ended.Count == 0 ? "–" : Num(100.0 * ended.Count(r => r.Status == RunStatus.Succeeded) / ended.Count, "0") + "%")}</td>
                <td>{(states.TryGetValue(entry.Name, out var breaker) ? Badge(breaker.State) : "<span class=\"muted\">–</span>")}</td></tr>
                """);
        }

        body.Append("</tbody></table>");
        return Page(context, "Runbooks", "Runbooks", body.ToString(), started);
    }

    public static async Task<IResult> DetailAsync(
        string name, HttpContext context, RunbookCatalog catalog, IRunStore store, CircuitBreakers breakers, FreshnessReader freshness, Trust.Modes.TrustRecords trust, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        if (catalog.Find(name) is not { } entry)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Page(context, "No such runbook", "Runbooks", Notice($"There is no runbook '{name}'.", error: true), started);
        }

        var d = entry.Definition;
        var body = new StringBuilder(Notice(context.Request.Query["notice"], context.Request.Query["error"] == "1"));
        var breaker = d?.Alerts.Count > 0 ? await breakers.GetAsync(name, cancellationToken) : null;
        body.Append(CultureInfo.InvariantCulture, $"""
            <dl class="facts" id="runbook">
            <dt>Description</dt><dd>{E(d?.Description)}</dd>
            <dt>Owner, tags</dt><dd>{E(d?.Owner ?? "–")}{(d?.Tags.Count > 0 ? " · " + E(string.Join(", ", d.Tags)) : "")}</dd>
            <dt>Started by</dt><dd>{Triggers(d)}</dd>
            <dt>Schedule</dt><dd>{E(d?.Schedule?.Expression ?? "none")}{(d?.Schedule is { } s ? ", next " + When(s.NextOccurrence(time.GetUtcNow())) : "")}</dd>
            <dt>Version</dt><dd class="mono"><a href="/api/runbooks/{E(name)}/versions/{E(entry.ContentHash)}/source">{E(entry.ContentHash[..12])}</a>{(entry.Commit is { } c ? " at commit " + E(c) : "")} · <a href="/api/runbooks/{E(name)}/versions">all versions</a></dd>
            <dt>Valid</dt><dd id="validity">{Validity(entry)}</dd>
            <dt>Manual cost</dt><dd>{(d?.ManualMinutes is { } m ? Num(m) + " min by hand" : "not declared")}</dd>
            <dt>Breaker</dt><dd>{(breaker is null ? "–" : Badge(breaker.State) + " " + E(breaker.Reason) + Reset(context, name, breaker))}</dd>
            </dl>
            """);
        var errors = (entry.Problem?.Diagnostics ?? entry.Diagnostics).Where(x => x.IsError).ToList();
        if (errors.Count > 0)
        {
            body.Append(CultureInfo.InvariantCulture, $"<h2>{(entry.Problem is not null ? "The newest version does not compile (the last good one keeps serving)" : "Errors")}</h2><pre id=\"errors\">{E(string.Join('\n', errors))}</pre>");
        }

        if (entry.IsValid && d is not null)
        {
            body.Append(StartForm(context, name, d));
        }

        // Trust: the mode, the shadow and confirm record, and the promotion it suggests; then freshness and drills.
        body.Append(TrustSections.Record(await trust.ForAsync(name, d?.Mode ?? RunMode.Auto, cancellationToken)));
        body.Append(await DrillsAsync(name, d, store, freshness, time, cancellationToken));
        var recent = await store.ListRunsAsync(new RunQuery(name, Limit: 20), cancellationToken);
        body.Append(CultureInfo.InvariantCulture, $"<h2>Last runs</h2><p><a href=\"/?runbook={U(name)}\">all runs of {E(name)}</a></p><table><tbody>");
        foreach (var run in recent)
        {
            body.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"mono\"><a href=\"/runs/{E(run.Id)}\">{E(run.Id[^12..])}</a></td><td>{Badge(run.Status.ToString())}</td><td>{When(run.QueuedAt)}</td><td>{E(run.Trigger.ToString())} {E(run.TriggeredBy)}</td><td>{E(RunsPage.Shorten(run.Error, 100))}</td></tr>");
        }

        body.Append("</tbody></table>");
        return Page(context, name, "Runbooks", body.ToString(), started);
    }

    /// <summary>The freshness badge, its reasons in the title (and listed on the runbook's page).</summary>
    private static string FreshnessBadge(RunbookFreshness? freshness) => freshness is null
        ? "<span class=\"muted\">–</span>"
        : $"<span class=\"badge s-{freshness.StateName}\" title=\"{E(string.Join("\n", freshness.Reasons))}\">{freshness.StateName}</span>";

    /// <summary>Freshness with its reasons, the drill and the drill runs so far.</summary>
    private static async Task<string> DrillsAsync(string name, RunbookDefinition? d, IRunStore store, FreshnessReader freshness, TimeProvider time, CancellationToken cancellationToken)
    {
        var html = new StringBuilder();
        var judged = await freshness.ForAsync(name, cancellationToken);
        html.Append(CultureInfo.InvariantCulture, $"<h2>Freshness</h2><p id=\"freshness\">{FreshnessBadge(judged)}</p>");
        if (judged is { Reasons.Count: > 0 })
        {
            html.Append("<ul id=\"freshness-reasons\">").AppendJoin("", judged.Reasons.Select(r => $"<li>{E(r)}</li>")).Append("</ul>");
        }

        var drills = await store.ListRunsAsync(new RunQuery(name, Limit: 10, Trigger: RunTrigger.Drill), cancellationToken);
        if (d?.Drill is not { } drill && drills.Count == 0)
        {
            return html.ToString();
        }

        html.Append(CultureInfo.InvariantCulture, $"<h2>Drills</h2><p>{(d?.Drill is { } given
            ? $"{E(given.Schedule.Expression)} (UTC), next {When(given.Schedule.NextOccurrence(time.GetUtcNow()))}, against {(given.Case is { } c ? "test case " + E(c) : "recorded alert " + E(given.Alert))}"
            : "no drill: block any more")}</p><table id=\"drills\"><tbody>");
        foreach (var run in drills)
        {
            html.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"mono\"><a href=\"/runs/{E(run.Id)}\">{E(run.Id[^12..])}</a></td><td>{Badge(run.Status.ToString())}</td><td>{When(run.QueuedAt)}</td><td>{E(RunsPage.Shorten(run.Error, 200))}</td></tr>");
        }

        return html.Append("</tbody></table>").ToString();
    }

    /// <summary>A field per declared parameter, typed as the front matter says.</summary>
    private static string StartForm(HttpContext context, string name, RunbookDefinition definition)
    {
        var fields = new StringBuilder();
        foreach (var p in definition.Parameters)
        {
            var value = p.Default switch
            {
                null => "",
                TimeSpan span => Durations.Format(span),
                bool flag => flag ? "true" : "false",
                IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
                var other => other.ToString() ?? "",
            };
            var input = p switch
            {
                { Values: { Count: > 0 } values } => $"<select name=\"p.{E(p.Name)}\">{string.Concat(values.Select(v => $"<option{(v == value ? " selected" : "")}>{E(v)}</option>"))}</select>",
                { Type: ParameterType.Bool } => $"<select name=\"p.{E(p.Name)}\"><option{(value == "true" ? " selected" : "")}>true</option><option{(value != "true" ? " selected" : "")}>false</option></select>",
                { Type: ParameterType.Int } => $"<input type=\"number\" step=\"1\" name=\"p.{E(p.Name)}\" value=\"{E(value)}\"{(p.Required && value.Length == 0 ? " required" : "")}>",
                { Type: ParameterType.Number } => $"<input type=\"number\" step=\"any\" name=\"p.{E(p.Name)}\" value=\"{E(value)}\"{(p.Required && value.Length == 0 ? " required" : "")}>",
                { Secret: true } => $"<input type=\"password\" name=\"p.{E(p.Name)}\" autocomplete=\"off\"{(p.Required ? " required" : "")}>",
                _ => $"<input name=\"p.{E(p.Name)}\" value=\"{E(value)}\" placeholder=\"{(p.Type == ParameterType.Duration ? "e.g. 10m" : "")}\"{(p.Required && value.Length == 0 ? " required" : "")}>",
            };
            fields.Append(CultureInfo.InvariantCulture, $"<label>{E(p.Name)} <span class=\"muted\">{E(p.Type.ToString().ToLowerInvariant())}{(p.Required ? ", required" : "")}</span>{input}<span class=\"muted\">{E(p.Description)}</span></label>");
        }

        return $"""
            <h2>Start a run</h2>
            <form id="start" class="filters" method="post" action="/runbooks/{E(name)}/start">
            {Csrf(context)}{fields}{ActorField(context)}<button type="submit">Start run</button>
            </form>
            """;
    }

    private static string Reset(HttpContext context, string name, BreakerState breaker) => breaker.State == "open"
        ? $" <form class=\"inline\" method=\"post\" action=\"/breakers/{E(name)}/reset\">{Csrf(context)}{ActorField(context)}<button type=\"submit\" class=\"secondary\">Reset breaker</button></form>"
        : "";

    private static string Triggers(RunbookDefinition? d)
    {
        if (d is null)
        {
            return "–";
        }

        var parts = d.Alerts.Select(a => "alert " + E(a.Name ?? "(labels)")).ToList();
        if (d.Schedule is { } s)
        {
            parts.Add("schedule <span class=\"mono\">" + E(s.Expression) + "</span>");
        }

        parts.Add("by hand");
        return string.Join("<br>", parts);
    }

    private static string Validity(CatalogEntry entry) => entry switch
    {
        { IsValid: true, Problem: null } => "<span class=\"badge s-Succeeded\">valid</span>",
        { IsValid: true } => "<span class=\"badge s-WaitingForHuman\">newest version broken</span>",
        _ => "<span class=\"badge s-Failed\">invalid</span>",
    };

    private static string Dot(RunStatus status) => $"<span class=\"badge s-{status}\" style=\"padding:0 5px\">{status.ToString()[0]}</span>";
}
