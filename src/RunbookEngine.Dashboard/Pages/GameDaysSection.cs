using System.Globalization;
using System.Text;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Storage;
using RunbookEngine.Trust.GameDays;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>A runbook's game days on its page: each one's outcome and its three times, newest first.</summary>
internal static class GameDaysSection
{
    public static async Task<string> RenderAsync(string runbook, RunbookDefinition? definition, IGameDayStore store, CancellationToken cancellationToken)
    {
        var history = await store.ListGameDaysAsync(runbook, 20, cancellationToken);
        if (history.Count == 0 && definition?.GameDay is null)
        {
            return "";
        }

        var body = new StringBuilder("<h2>Game days</h2>");
        if (definition?.GameDay is { } block)
        {
            body.Append(CultureInfo.InvariantCulture,
                $"<p class=\"muted\">Inject <code>{E(block.Inject)}</code>, wait for the alert and this runbook's run, verify <code>{E(block.Verify)}</code>{(block.Restore is { } r ? ", restore <code>" + E(r) + "</code>" : "")}, within {E(Sdk.Durations.Format(block.Timeout))}. Start one with <code>runbook gameday {E(runbook)}</code>.</p>");
        }

        if (history.Count == 0)
        {
            return body.Append("<p class=\"muted\">No game day yet.</p>").ToString();
        }

        body.Append("""<table id="gamedays"><thead><tr><th>Started (UTC)</th><th>By</th><th>Status</th><th class="num">Detect s</th><th class="num">Remediate s</th><th class="num">Recover s</th><th>Run</th><th>Error</th></tr></thead><tbody>""");
        foreach (var g in history)
        {
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-gameday="{E(g.Id)}"><td><a href="/api/gamedays/{E(g.Id)}">{When(g.StartedAt)}</a></td><td>{E(g.StartedBy)}</td>
                <td>{Badge(g.Status.ToString())}{(g.Status == GameDayStatus.Succeeded ? "" : " <span class=\"muted\">" + E(g.Phase.ToString()) + "</span>")}</td>
                <td class="num">{Num(g.TimeToDetect?.TotalSeconds, "0.0")}</td><td class="num">{Num(g.TimeToRemediate?.TotalSeconds, "0.0")}</td><td class="num">{Num(g.TimeToRecover?.TotalSeconds, "0.0")}</td>
                <td class="mono">{(g.RunId is { } run ? $"<a href=\"/runs/{E(run)}\">{E(run[^Math.Min(12, run.Length)..])}</a>" : "–")}</td>
                <td>{E(RunsPage.Shorten(g.Error, 160))}</td></tr>
                """);
        }

        return body.Append("</tbody></table>").ToString();
    }
}
