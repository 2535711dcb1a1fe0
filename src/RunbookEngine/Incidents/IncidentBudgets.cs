using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Slos;
using RunbookEngine.Toil;

namespace RunbookEngine.Incidents;

/// <summary>
/// The error budget an incident's automation saved (<see cref="BudgetSaved"/>): its first remediation against that
/// runbook's <c>manual_minutes</c>, at the burn rate Prometheus read over the incident from its start to that remediation.
/// The SLO is the one a run's budget gate read, else the one whose service is the incident's.
/// </summary>
/// <param name="budgets">The configured SLOs.</param>
/// <param name="evaluator">Reads a burn rate over a past range.</param>
public sealed class IncidentBudgets(SloBudgets budgets, SloEvaluator evaluator)
{
    /// <summary>Estimates what the incident's automation saved of its SLO's budget.</summary>
    /// <param name="facts">The incident's facts.</param>
    /// <param name="figures">Its figures.</param>
    /// <param name="cancellationToken">Cancels the Prometheus query.</param>
    /// <returns>The estimate, or null when no SLO covers the incident.</returns>
    public async Task<IncidentBudgetSaved?> EstimateAsync(IncidentFacts facts, IncidentFigures figures, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(figures);
        if (SloFor(facts) is not { } slo)
        {
            return null;
        }

        var remediation = facts.Runs
            .Where(r => r is { Status: RunStatus.Succeeded, FinishedAt: not null } && ToilCalculator.Acted(r.Trigger, r.Mode))
            .OrderBy(r => r.FinishedAt)
            .FirstOrDefault();
        if (remediation is null)
        {
            return IncidentBudgetSaved.Unknown(slo.Name, "no run remediated it, so there is no remediation to credit");
        }

        if (remediation.ManualMinutes is not { } manual)
        {
            return IncidentBudgetSaved.Unknown(slo.Name, $"{remediation.Runbook} declares no manual_minutes, so there is nothing to compare its remediation with");
        }

        // A person paged at detection would have started then, so the automation is timed from detection too.
        var remediated = remediation.FinishedAt!.Value;
        var timeToRemediate = remediated > figures.DetectedAt ? remediated - figures.DetectedAt : TimeSpan.Zero;
        if (await evaluator.BurnRateBetweenAsync(slo.Name, figures.StartedAt, remediated, cancellationToken) is not { } burn)
        {
            return IncidentBudgetSaved.Unknown(slo.Name, $"the burn rate of {slo.Name} over the incident could not be read from Prometheus");
        }

        var estimate = BudgetSaved.Estimate(timeToRemediate, manual, burn, slo.Objective, slo.Window);
        return new IncidentBudgetSaved(
            slo.Name, "estimated", remediation.Runbook, remediation.Id, burn, timeToRemediate.TotalMinutes, manual,
            estimate.MinutesFaster, estimate.BudgetMinutes, estimate.ShareOfBudget * 100,
            $"{remediation.Runbook} remediated in {timeToRemediate.TotalMinutes:0.#} min against {manual:0.#} min by hand while {slo.Name} burned at {burn:0.##}: {estimate.BudgetMinutes:0.###} budget minutes saved ({estimate.ShareOfBudget * 100:0.##}% of its window's budget)");
    }

    private Slo? SloFor(IncidentFacts facts)
    {
        foreach (var run in facts.Runs)
        {
            if (run.BudgetGate is { } gate && budgets.Find(gate.Slo) is { } gated)
            {
                return gated;
            }
        }

        return facts.Incident.Service is { } service
            ? budgets.Slos.FirstOrDefault(s => string.Equals(s.Service, service, StringComparison.Ordinal))
            : null;
    }
}

/// <summary>What <see cref="IncidentBudgets"/> estimated for one incident.</summary>
/// <param name="Slo">The SLO whose budget it is.</param>
/// <param name="State"><c>estimated</c>, or <c>unknown</c> with <paramref name="Reason"/> saying why.</param>
/// <param name="Runbook">The runbook whose run remediated it.</param>
/// <param name="RunId">That run.</param>
/// <param name="BurnRate">The SLO's burn rate from the incident's start to the remediation.</param>
/// <param name="TimeToRemediateMinutes">Detection to the remediation's end, in minutes.</param>
/// <param name="ManualMinutes">The runbook's <c>manual_minutes</c>.</param>
/// <param name="MinutesFaster">How much sooner than by hand it ended (0 when slower).</param>
/// <param name="BudgetMinutes">Error-budget minutes saved.</param>
/// <param name="SharePercent">That as a share of the SLO's window budget, in percent.</param>
/// <param name="Reason">The estimate, or why there is none, in one sentence.</param>
public sealed record IncidentBudgetSaved(
    string Slo,
    string State,
    string? Runbook,
    string? RunId,
    double? BurnRate,
    double? TimeToRemediateMinutes,
    double? ManualMinutes,
    double? MinutesFaster,
    double? BudgetMinutes,
    double? SharePercent,
    string Reason)
{
    /// <summary>No estimate, and why.</summary>
    /// <param name="slo">The SLO.</param>
    /// <param name="reason">Why.</param>
    /// <returns>The unknown estimate.</returns>
    public static IncidentBudgetSaved Unknown(string slo, string reason) => new(slo, "unknown", null, null, null, null, null, null, null, null, reason);
}
