using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>The run history: newest first, filtered and searched, paged by cursor so a page costs the same at any depth.</summary>
internal static class RunsPage
{
    private const int PageSize = 50;

    public static async Task<IResult> RenderAsync(HttpContext context, IRunStore store, RunbookCatalog catalog, TimeProvider time, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var q = context.Request.Query;
        var problems = new List<string>();
        var status = ParseEnum<RunStatus>(q["status"], "status", problems);
        var trigger = ParseEnum<RunTrigger>(q["trigger"], "trigger", problems);
        var since = ParseTime(q["from"], time, "from", problems);
        var until = ParseTime(q["to"], time, "to", problems);
        var query = new RunQuery(
            Empty(q["runbook"]), status, PageSize, Empty(q["before"]), trigger, Empty(q["alert"]), Empty(q["target"]), since, until, Empty(q["q"]));
        var runs = problems.Count == 0 ? await store.ListRunsAsync(query, cancellationToken) : [];

        var body = new StringBuilder();
        body.Append(Filters(context, catalog, query));
        foreach (var problem in problems)
        {
            body.Append(Notice(problem, error: true));
        }

        body.Append("""<table id="runs"><thead><tr><th>Run</th><th>Runbook</th><th>Status</th><th>Trigger</th><th>Queued (UTC)</th><th class="num">Took</th><th class="num">Attempt</th><th>Node</th><th>Error</th></tr></thead><tbody>""");
        foreach (var run in runs)
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-run="{E(run.Id)}"><td class="mono"><a href="/runs/{E(run.Id)}">{E(run.Id[^12..])}</a></td><td><a href="/runbooks/{E(run.Runbook)}">{E(run.Runbook)}</a></td>
                <td>{Badge(run.Status.ToString())}</td><td>{E(run.Trigger.ToString())} <span class="muted">{E(run.TriggeredBy)}</span></td><td>{When(run.QueuedAt)}</td>
                <td class="num">{Took(run.StartedAt, run.FinishedAt)}</td><td class="num">{run.Attempt}</td><td class="muted">{E(run.Node)}</td><td>{E(Shorten(run.Error, 120))}</td></tr>
                """);
        }

        if (runs.Count == 0)
        {
            body.Append("""<tr><td colspan="9" class="muted">No runs match.</td></tr>""");
        }

        body.Append("</tbody></table><div class=\"pager\">");
        if (query.Before is not null)
        {
            body.Append(CultureInfo.InvariantCulture, $"<a href=\"{Link(context, before: null)}\">← Newest</a>");
        }

        if (runs.Count == PageSize)
        {
            body.Append(CultureInfo.InvariantCulture, $"<a id=\"older\" href=\"{Link(context, before: runs[^1].Id)}\">Older →</a>");
        }

        body.Append("</div>");
        return Page(context, "Runs", "Runs", body.ToString(), started);
    }

    private static string Filters(HttpContext context, RunbookCatalog catalog, RunQuery query)
    {
        var q = context.Request.Query;
        var runbooks = new StringBuilder("<option value=\"\">any</option>");
        foreach (var entry in catalog.Entries.OrderBy(e => e.Name, StringComparer.Ordinal))
        {
            runbooks.Append(CultureInfo.InvariantCulture, $"<option{(entry.Name == query.Runbook ? " selected" : "")}>{E(entry.Name)}</option>");
        }

        return $"""
            <form class="filters" method="get" action="/">
            <label>Search<input name="q" value="{E(q["q"])}" placeholder="id, runbook, who, target, parameters, error" size="28"></label>
            <label>Runbook<select name="runbook">{runbooks}</select></label>
            <label>Status<select name="status">{Options<RunStatus>(query.Status?.ToString())}</select></label>
            <label>Trigger<select name="trigger">{Options<RunTrigger>(query.Trigger?.ToString())}</select></label>
            <label>Alert id<input name="alert" value="{E(q["alert"])}" size="12"></label>
            <label>Target<input name="target" value="{E(q["target"])}" size="14" placeholder="e.g. web-1"></label>
            <label>From (UTC or 24h)<input name="from" value="{E(q["from"])}" size="16" placeholder="2026-11-24 08:00"></label>
            <label>To<input name="to" value="{E(q["to"])}" size="16"></label>
            <button type="submit">Filter</button> <a href="/">clear</a>
            </form>
            """;
    }

    private static string Options<T>(string? selected)
        where T : struct, Enum
    {
        var options = new StringBuilder("<option value=\"\">any</option>");
        foreach (var name in Enum.GetNames<T>())
        {
            options.Append(CultureInfo.InvariantCulture, $"<option{(name == selected ? " selected" : "")}>{name}</option>");
        }

        return options.ToString();
    }

    private static string Link(HttpContext context, string? before)
    {
        var pairs = context.Request.Query.Where(p => p.Key != "before" && p.Value.ToString().Length > 0).Select(p => $"{U(p.Key)}={U(p.Value)}").ToList();
        if (before is not null)
        {
            pairs.Add($"before={U(before)}");
        }

        return E("/" + (pairs.Count == 0 ? "" : "?" + string.Join('&', pairs)));
    }

    private static string? Empty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();

    private static T? ParseEnum<T>(string? value, string name, List<string> problems)
        where T : struct, Enum
    {
        if (Empty(value) is not { } text)
        {
            return null;
        }

        if (Enum.TryParse<T>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
        {
            return parsed;
        }

        problems.Add($"{name} '{text}' is not one of {string.Join(", ", Enum.GetNames<T>())}");
        return null;
    }

    /// <summary>A time in UTC (ISO 8601, or "2026-11-24 08:00"), or a duration back from now ("24h").</summary>
    internal static DateTimeOffset? ParseTime(string? value, TimeProvider time, string name, List<string> problems)
    {
        if (Empty(value) is not { } text)
        {
            return null;
        }

        if (Moments.TryParse(text, time.GetUtcNow(), out var at))
        {
            return at;
        }

        problems.Add($"{name} '{text}' is not a time (2026-11-24 08:00, in UTC) or a duration back from now (24h)");
        return null;
    }

    internal static string? Shorten(string? text, int length) => text is null || text.Length <= length ? text : text[..length] + "…";
}
