using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Incidents;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Slos;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Slos;

/// <summary>
/// The evaluator against Debian's Prometheus 2.42 holding synthetic counters (<see cref="SloHistory"/>): checkout fails
/// 0.05% of requests, payments 0.095%. By hand, at 99.9%: checkout keeps 50% of its budget and burns at 0.5, payments
/// keeps 5% and burns at 0.95, over any range.
/// </summary>
public sealed class SloEvaluatorTests : IAsyncLifetime
{
    private readonly ServiceProvider _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    private PrometheusProcess _prometheus = null!;
    private SloEvaluator _evaluator = null!;
    private SloBudgets _budgets = null!;

    public async Task InitializeAsync()
    {
        Assert.True(PrometheusProcess.IsInstalled, "prometheus is not installed: apt-get install -y prometheus (tests/run.sh does this)");
        _prometheus = await PrometheusProcess.StartAsync("global:\n  scrape_interval: 1m\n", history: SloHistory.Counters(TimeProvider.System.GetUtcNow(), ("checkout", 9_995), ("payments", 9_990.5)));
        var options = Options.Create(new RunbookEngineOptions
        {
            Prometheus = new PrometheusOptions { Url = _prometheus.Address.ToString(), BurnRateWindow = TimeSpan.FromMinutes(30) },
            Slos =
            [
                Pair("checkout"),
                Pair("payments"),
                new SloOptions { Name = "payments-by-ratio", Objective = 99.9, Window = "1d", ErrorRatio = """1 - sum(rate(slo_good_requests_total{service="payments"}[$window])) / sum(rate(slo_requests_total{service="payments"}[$window]))""" },
                new SloOptions { Name = "nobody", Objective = 99, Window = "1d", ErrorRatio = """sum(rate(no_such_metric_total[$window]))""" },
                new SloOptions { Name = "broken", Objective = 99, Window = "1d", ErrorRatio = """sum(rate(slo_requests_total[$window])""" },
            ],
        });
        _budgets = new SloBudgets(options, TimeProvider.System);
        _evaluator = new SloEvaluator(_budgets, _services.GetRequiredService<IHttpClientFactory>(), options, TimeProvider.System, NullLogger<SloEvaluator>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _prometheus.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task EvaluateAllAsync_GivesTheFiguresAHandCalculationGives_AndSaysWhyTheOthersAreUnknown()
    {
        await _evaluator.EvaluateAllAsync(CancellationToken.None);
        var slos = _budgets.Current().ToDictionary(s => s.Name);

        Assert.Equal(SloState.Ok, slos["checkout"].State);
        Assert.Equal(99.95, slos["checkout"].Sli!.Value, 6);
        Assert.Equal(50, slos["checkout"].BudgetRemainingPercent!.Value, 6);
        Assert.Equal(0.5, slos["checkout"].BurnRate!.Value, 6);
        Assert.Equal(SloState.Low, slos["payments"].State);
        Assert.Equal(5, slos["payments"].BudgetRemainingPercent!.Value, 6);
        Assert.Equal(0.95, slos["payments"].BurnRate!.Value, 6);
        Assert.Equal(5, slos["payments-by-ratio"].BudgetRemainingPercent!.Value, 6);
        Assert.Equal(
            (SloState.Unknown, "the query returned no series: check its metric names and labels, and that Prometheus has data for the whole range"),
            (slos["nobody"].State, slos["nobody"].Error));
        Assert.Equal(SloState.Unknown, slos["broken"].State);
        Assert.StartsWith("Prometheus refused the query (400, bad_data): ", slos["broken"].Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BurnRateBetweenAsync_ReadsAnIncidentsRange_ForTheBudgetSaved()
    {
        var now = TimeProvider.System.GetUtcNow();

        var burn = await _evaluator.BurnRateBetweenAsync("payments", now - TimeSpan.FromMinutes(20), now, CancellationToken.None);

        Assert.Equal(0.95, burn!.Value, 6);
        Assert.Null(await _evaluator.BurnRateBetweenAsync("nobody", now - TimeSpan.FromMinutes(20), now, CancellationToken.None));
        Assert.Null(await _evaluator.BurnRateBetweenAsync("no-such-slo", now - TimeSpan.FromMinutes(20), now, CancellationToken.None));

        // 0.95 × 0.001 × (20 − 3) budget minutes, remediated in 3 minutes instead of 20.
        var saved = BudgetSaved.Estimate(TimeSpan.FromMinutes(3), 20, burn.Value, 0.999, TimeSpan.FromDays(1));
        Assert.Equal(0.01615, saved.BudgetMinutes, 6);
    }

    [Fact]
    public async Task An_incident_on_a_burning_service_is_credited_with_the_budget_its_remediation_saved()
    {
        // Detected 9 minutes ago and remediated 3 minutes later by a runbook a person needs 20 minutes for, while payments
        // burned at 0.95: by hand, 0.95 × 0.001 × (20 − 3) = 0.01615 budget minutes, of a day's 1.44.
        var now = TimeProvider.System.GetUtcNow();
        var incident = new IncidentRecord("i1", "PaymentsErrors", "payments", IncidentRules.Labels, "labels:payments", IncidentState.Closed, now.AddMinutes(-9), now.AddMinutes(-2), now.AddMinutes(-9), 0);
        var run = new RunRecord(
            "r1", "restart-payments", null, "h", RunTrigger.Alert, "alertmanager:x", "{}", RunStatus.Succeeded, 1, "n", null,
            now.AddMinutes(-9), now.AddMinutes(-9), now.AddMinutes(-6), null, null, "a1", ManualMinutes: 20);
        var facts = new IncidentFacts(incident, [], [], [run], new Dictionary<string, IReadOnlyList<StepOutcome>>());

        var saved = await new IncidentBudgets(_budgets, _evaluator).EstimateAsync(facts, IncidentFigures.Of(facts), CancellationToken.None);

        Assert.Equal(("payments", "estimated", "r1"), (saved!.Slo, saved.State, saved.RunId));
        Assert.Equal((3.0, 17.0), (saved.TimeToRemediateMinutes!.Value, saved.MinutesFaster!.Value));
        Assert.Equal(0.01615, saved.BudgetMinutes!.Value, 6);
        Assert.Equal(0.01615 / 1.44 * 100, saved.SharePercent!.Value, 6);

        var untimed = facts with { Runs = [run with { ManualMinutes = null }] };
        var unknown = await new IncidentBudgets(_budgets, _evaluator).EstimateAsync(untimed, IncidentFigures.Of(untimed), CancellationToken.None);
        Assert.Equal(("unknown", "restart-payments declares no manual_minutes, so there is nothing to compare its remediation with"), (unknown!.State, unknown.Reason));

        var elsewhere = facts with { Incident = incident with { Service = "search" } };
        Assert.Null(await new IncidentBudgets(_budgets, _evaluator).EstimateAsync(elsewhere, IncidentFigures.Of(elsewhere), CancellationToken.None));
    }

    private static SloOptions Pair(string service) => new()
    {
        Name = service,
        Service = service,
        Objective = 99.9,
        Window = "1d",
        Good = $$"""sum(rate(slo_good_requests_total{service="{{service}}"}[$window]))""",
        Total = $$"""sum(rate(slo_requests_total{service="{{service}}"}[$window]))""",
    };
}
