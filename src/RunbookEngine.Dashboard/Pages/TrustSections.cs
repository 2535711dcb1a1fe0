using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Trust.Modes;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>Modes on the dashboard: a shadow run's proposal with its verdict form, and a runbook's record with the promotion it suggests.</summary>
internal static class TrustSections
{
    /// <summary>What a <c>Proposed</c> run would have done, the verdict on it, and the form to give one; nothing for other runs.</summary>
    public static string Proposal(HttpContext context, RunRecord run)
    {
        if (run.Proposal is not { } proposal)
        {
            return "";
        }

        var parameters = proposal.Parameters.Count == 0
            ? "<span class=\"muted\">none</span>"
            : "<table><tbody>" + string.Concat(proposal.Parameters.Select(p => $"<tr><th>{E(p.Key)}</th><td class=\"mono\">{E(p.Value)}</td></tr>")) + "</tbody></table>";
        var body = new StringBuilder().Append(CultureInfo.InvariantCulture, $"""
            <h2>Proposal</h2>
            <p class="muted">Shadow mode: the run stopped before its first side effect. This is what it would have done; nothing of it was done.</p>
            <dl class="facts" id="proposal">
            <dt>Step</dt><dd>{E(proposal.Step)}</dd>
            <dt>Description</dt><dd>{(proposal.Description is { Length: > 0 } d ? E(d) : "<span class=\"muted\">none given</span>")}</dd>
            <dt>Action</dt><dd>{E(proposal.Action)}</dd>
            <dt>Detail</dt><dd>{(proposal.Detail is { Length: > 0 } detail ? $"<code>{E(detail)}</code>" : "<span class=\"muted\">–</span>")}</dd>
            <dt>Parameters</dt><dd>{parameters}</dd>
            </dl>
            """);
        body.Append(CultureInfo.InvariantCulture, $"<h2>Verdict</h2><div id=\"verdict\">{Verdict(run.Verdict)}");
        body.Append(CultureInfo.InvariantCulture, $"""
            <form class="inline" method="post" action="/runs/{E(run.Id)}/verdict">
            {Csrf(context)}{ActorField(context)}
            <input name="comment" placeholder="comment (optional)" size="40" maxlength="{ProposalVerdicts.MaxComment}">
            <button type="submit" name="verdict" value="right">Would have been right</button>
            <button type="submit" name="verdict" value="wrong" class="danger">Would have been wrong</button>
            </form>
            </div>
            """);
        return body.ToString();
    }

    /// <summary>A runbook's mode, its shadow and confirm record, its latest proposals and the promotion its record suggests.</summary>
    public static string Record(TrustRecord record)
    {
        var body = new StringBuilder().Append(CultureInfo.InvariantCulture, $"""
            <h2>Trust</h2>
            <div id="trust">
            {(record.Suggestion is { } suggestion ? $"<p class=\"notice\" id=\"suggestion\">{E(suggestion)} <span class=\"muted\">(change <code>mode:</code> in the front matter; the host never does)</span></p>" : "")}
            <dl class="facts">
            <dt>Mode</dt><dd>{Badge(record.Mode.ToString().ToLowerInvariant())}</dd>
            <dt>Shadow</dt><dd>{record.Shadow.Proposals} proposals · {record.Shadow.Agreed} agreed · {record.Shadow.Disagreed} disagreed · {record.Shadow.AwaitingVerdict} awaiting a verdict</dd>
            <dt>Confirm</dt><dd>{record.Confirm.Approved} approved · {record.Confirm.Rejected} rejected · {record.Confirm.Waiting} waiting</dd>
            </dl>
            """);
        if (record.Latest is { Count: > 0 } latest)
        {
            body.Append("<table id=\"proposals\"><thead><tr><th>Run</th><th>Queued (UTC)</th><th>Would have done</th><th>Verdict</th></tr></thead><tbody>");
            foreach (var entry in latest)
            {
                var p = entry.Proposal;
                body.Append(CultureInfo.InvariantCulture, $"<tr><td class=\"mono\"><a href=\"/runs/{E(entry.RunId)}\">{E(entry.RunId[^12..])}</a></td><td>{When(entry.QueuedAt)}</td><td>{E(p.Action)} <b>{E(p.Step)}</b>{(p.Detail is { Length: > 0 } d && d != p.Step ? $" <code>{E(d)}</code>" : "")}</td><td>{Verdict(entry.Verdict)}</td></tr>");
            }

            body.Append("</tbody></table>");
        }

        return body.Append("</div>").ToString();
    }

    private static string Verdict(RunVerdict? verdict) => verdict is null
        ? "<p class=\"muted\">No verdict yet.</p>"
        : $"<p>{(verdict.Right ? "<span class=\"badge s-Succeeded\">right</span>" : "<span class=\"badge s-Failed\">wrong</span>")} by {E(verdict.By)} {When(verdict.At)}{(verdict.Comment is { Length: > 0 } c ? $": “{E(c)}”" : "")}</p>";

    /// <summary>The mode's badge next to a run, when it is not auto.</summary>
    public static string ModeBadge(RunMode mode) => mode == RunMode.Auto ? "" : " " + Badge(mode.ToString().ToLowerInvariant());
}
