using Prometheus;

namespace RunbookEngine.Slos;

/// <summary>
/// The SLOs on <c>/metrics</c>: budget left, burn rate and SLI per SLO, read from <see cref="SloBudgets"/> at scrape
/// time. An unknown SLO has no series in those three (an old figure must not pass for a current one) and
/// <c>runbookengine_slo_known</c> 0, so an alert can fire on it.
/// </summary>
public sealed class SloMetrics
{
    private readonly Gauge _remaining;
    private readonly Gauge _burn;
    private readonly Gauge _sli;
    private readonly Gauge _known;

    /// <summary>Creates the gauges on the host's registry.</summary>
    /// <param name="registry">The registry <c>/metrics</c> exports.</param>
    public SloMetrics(CollectorRegistry registry)
    {
        var factory = Metrics.WithCustomRegistry(registry);
        _remaining = factory.CreateGauge("runbookengine_slo_budget_remaining_ratio", "Share of the SLO's error budget left over its window (1 untouched, 0 spent, below 0 overspent); absent while unknown.", ["slo", "service"]);
        _burn = factory.CreateGauge("runbookengine_slo_burn_rate", "How fast the SLO's budget burns over the burn-rate window (1 spends it exactly over the SLO's window); absent while unknown.", ["slo", "service"]);
        _sli = factory.CreateGauge("runbookengine_slo_sli_ratio", "Share of good events over the SLO's window; absent while unknown.", ["slo", "service"]);
        _known = factory.CreateGauge("runbookengine_slo_known", "1 when the SLO's budget was read from Prometheus in time, 0 while it is unknown (unreachable, an error, no data, stale).", ["slo", "service"]);
    }

    /// <summary>Sets the gauges from the budgets as they stand; called before each scrape.</summary>
    /// <param name="budgets">The budgets.</param>
    public void Read(SloBudgets budgets)
    {
        ArgumentNullException.ThrowIfNull(budgets);
        foreach (var status in budgets.Current())
        {
            string[] labels = [status.Name, status.Service ?? ""];
            var known = status is { State: not SloState.Unknown, BudgetRemainingPercent: { } remaining, BurnRate: { } burn, Sli: { } sli };
            _known.WithLabels(labels).Set(known ? 1 : 0);
            if (known)
            {
                _remaining.WithLabels(labels).Set(status.BudgetRemainingPercent!.Value / 100);
                _burn.WithLabels(labels).Set(status.BurnRate!.Value);
                _sli.WithLabels(labels).Set(status.Sli!.Value / 100);
            }
            else
            {
                _remaining.RemoveLabelled(labels);
                _burn.RemoveLabelled(labels);
                _sli.RemoveLabelled(labels);
            }
        }
    }
}
