using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using RunbookEngine.Slos;
using static RunbookEngine.Dashboard.Html;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>The SLOs' error budgets as this node last read them from Prometheus, unknown ones with why.</summary>
internal static class SlosPage
{
    public static IResult Render(HttpContext context, SloBudgets budgets)
    {
        var started = Stopwatch.GetTimestamp();
        var body = new StringBuilder();
        body.Append("""<p class="muted">Read from Prometheus by this node on a schedule. An SLO Prometheus could not answer for is <b>unknown</b>, and a runbook gated on it asks first.</p>""");
        body.Append("""<table id="slos"><thead><tr><th>SLO</th><th>Service</th><th>Objective</th><th>Window</th><th>SLI</th><th>Budget left</th><th>Burn rate</th><th>State</th><th>Evaluated (UTC)</th><th>Why unknown</th></tr></thead><tbody>""");
        foreach (var slo in budgets.Current())
        {
            var state = slo.State.ToString().ToLowerInvariant();
            body.Append(CultureInfo.InvariantCulture, $"""
                <tr data-slo="{E(slo.Name)}" data-state="{E(state)}"><td>{E(slo.Name)}</td><td>{E(slo.Service ?? "–")}</td><td>{Percent(slo.Objective)}</td><td>{E(slo.Window)}</td>
                <td>{Percent(slo.Sli)}</td><td>{Percent(slo.BudgetRemainingPercent)}</td><td>{(slo.BurnRate is { } burn ? burn.ToString("0.##", CultureInfo.InvariantCulture) + "×" : "–")}</td>
                <td>{Badge(state)}</td><td>{When(slo.EvaluatedAt)}</td><td>{E(slo.Error)}</td></tr>
                """);
        }

        if (budgets.Slos.Count == 0)
        {
            body.Append("""<tr><td colspan="10" class="muted">No SLOs are configured (RunbookEngine:Slos).</td></tr>""");
        }

        body.Append("</tbody></table>");
        return Page(context, "SLOs", "SLOs", body.ToString(), started);
    }

    /// <summary>The run page's line for what the budget gate decided, or nothing when the run was not gated.</summary>
    public static string GateFact(BudgetGateDecision? gate) => gate is null
        ? ""
        : $"""<dt>Budget gate</dt><dd id="budget-gate" data-gated="{(gate.Gated ? "1" : "0")}">{Badge(gate.State)} {E(gate.Reason)} <a href="/slos">SLOs</a> <span class="muted">(decided {When(gate.DecidedAt)})</span></dd>""";

    private static string Percent(double? value) => value is { } v ? v.ToString("0.###", CultureInfo.InvariantCulture) + "%" : "–";
}
