using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Slos;
using RunbookEngine.Trust;

namespace RunbookEngine.Tests.Slos;

public sealed class SloBudgetsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 5, 10, 0, 0, TimeSpan.Zero));
    private readonly SloBudgets _budgets;

    public SloBudgetsTests()
    {
        var options = new RunbookEngineOptions
        {
            Prometheus = new PrometheusOptions { Url = "http://127.0.0.1:9090/", EvaluationInterval = TimeSpan.FromMinutes(1) },
            Slos = [new SloOptions { Name = "checkout", Service = "checkout", Objective = 99.9, Window = "28d", ErrorRatio = "x[$window]" }],
        };
        _budgets = new SloBudgets(Options.Create(options), _time);
    }

    [Fact]
    public void Decide_AboveTheThreshold_LetsTheRunActInItsOwnMode()
    {
        Evaluated(remainingPercent: 50);

        var decision = _budgets.Decide(new BudgetGate("checkout", 10, RunMode.Confirm));

        Assert.False(decision.Gated);
        Assert.Equal(("ok", 50.0, 10.0, "confirm"), (decision.State, decision.BudgetRemainingPercent!.Value, decision.BelowPercent, decision.Then));
        Assert.Equal("50% of the error budget of checkout is left, not below the gate's 10%: the run acts in its own mode", decision.Reason);
        Assert.Equal(_time.GetUtcNow(), decision.DecidedAt);
    }

    [Fact]
    public void Decide_BelowTheThreshold_SwitchesTheRunToConfirm()
    {
        Evaluated(remainingPercent: 5);

        var decision = _budgets.Decide(new BudgetGate("checkout", 10, RunMode.Confirm));

        Assert.True(decision.Gated);
        Assert.Equal("5% of the error budget of checkout is left, below the gate's 10%: the run acts as confirm", decision.Reason);
    }

    [Fact]
    public void Decide_BeforeTheFirstEvaluation_GatesAsUnknown()
    {
        var decision = _budgets.Decide(new BudgetGate("checkout", 10, RunMode.Confirm));

        Assert.True(decision.Gated);
        Assert.Equal(("unknown", (double?)null), (decision.State, decision.BudgetRemainingPercent));
        Assert.Equal("the error budget of checkout is unknown (not evaluated yet), so the run acts as confirm", decision.Reason);
    }

    [Fact]
    public void Decide_OnAPrometheusThatFailed_GatesAsUnknown()
    {
        _budgets.Record(new SloStatus("checkout", "checkout", 99.9, "28d", SloState.Unknown, null, null, null, _time.GetUtcNow(), "Prometheus at http://127.0.0.1:9090/ could not be reached: Connection refused"));

        var decision = _budgets.Decide(new BudgetGate("checkout", 10, RunMode.Shadow));

        Assert.True(decision.Gated);
        Assert.Equal("the error budget of checkout is unknown (Prometheus at http://127.0.0.1:9090/ could not be reached: Connection refused), so the run acts as shadow", decision.Reason);
    }

    [Fact]
    public void Current_OfAnEvaluationOlderThanThreeIntervals_IsUnknown()
    {
        Evaluated(remainingPercent: 50);
        _time.Advance(TimeSpan.FromMinutes(3));
        Assert.Equal(SloState.Ok, Assert.Single(_budgets.Current()).State);

        _time.Advance(TimeSpan.FromSeconds(1));

        var stale = Assert.Single(_budgets.Current());
        Assert.Equal((SloState.Unknown, (double?)null), (stale.State, stale.BudgetRemainingPercent));
        Assert.True(_budgets.Decide(new BudgetGate("checkout", 10, RunMode.Confirm)).Gated);
    }

    [Fact]
    public void StaleAfter_OfSlowQueries_AllowsAnIntervalAndFourTimeouts()
    {
        Assert.Equal(TimeSpan.FromMinutes(3), SloBudgets.StaleAfter(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(21), SloBudgets.StaleAfter(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(4)));
    }

    [Fact]
    public void Decide_OnAnSloNotConfigured_GatesAsUnknown()
    {
        var decision = _budgets.Decide(new BudgetGate("payments", 10, RunMode.Confirm));

        Assert.True(decision.Gated);
        Assert.Equal("SLO 'payments' is not configured on this host, so its budget is unknown: the run acts as confirm", decision.Reason);
    }

    [Fact]
    public void Decision_RoundTripsThroughTheStoresJson()
    {
        Evaluated(remainingPercent: 5);
        var decision = _budgets.Decide(new BudgetGate("checkout", 10, RunMode.Confirm));

        Assert.Equal(decision, BudgetGateDecision.FromJson(decision.ToJson()));
    }

    [Theory]
    [InlineData(RunMode.Auto, true, "confirm", RunMode.Confirm)]
    [InlineData(RunMode.Auto, true, "shadow", RunMode.Shadow)]
    [InlineData(RunMode.Auto, false, "confirm", RunMode.Auto)]
    [InlineData(RunMode.Shadow, true, "confirm", RunMode.Shadow)]
    [InlineData(RunMode.Confirm, true, "confirm", RunMode.Confirm)]
    public void RunModes_TakeTheStricterOfTheRunbooksModeAndTheGates(RunMode own, bool gated, string then, RunMode expected)
    {
        var definition = new RunbookDefinition { Description = "gated", Mode = own };
        var decision = new BudgetGateDecision("checkout", "low", 5, 10, then, gated, null, _time.GetUtcNow(), "");

        Assert.Equal(expected, RunModes.For(definition, RunTrigger.Alert, decision));
        Assert.Equal(RunMode.Shadow, RunModes.For(definition, RunTrigger.Drill, decision));
    }

    [Fact]
    public void ConfirmFor_ARunTheGateMadeAsk_GivesTheGatesDeadline_WhenConfirmGivesNone()
    {
        var gated = new BudgetGateDecision("checkout", "low", 5, 10, "confirm", true, null, _time.GetUtcNow(), "");
        var passed = gated with { Gated = false };
        var definition = new RunbookDefinition { Description = "gated", BudgetGate = new BudgetGate("checkout", 10, RunMode.Confirm) { Timeout = TimeSpan.FromMinutes(15) } };

        Assert.Equal(TimeSpan.FromMinutes(15), RunModes.ConfirmFor(definition, gated).Timeout);
        Assert.Null(RunModes.ConfirmFor(definition, passed).Timeout);
        Assert.Equal(TimeSpan.FromMinutes(5), RunModes.ConfirmFor(definition with { Confirm = new ConfirmSettings(Timeout: TimeSpan.FromMinutes(5)) }, gated).Timeout);
        Assert.Null(RunModes.ConfirmFor(definition with { Mode = RunMode.Confirm }, gated).Timeout);
    }

    [Theory]
    [InlineData(true, "confirm", false, "confirm", "earlier")]
    [InlineData(true, "confirm", true, "shadow", "now")]
    [InlineData(true, "shadow", true, "confirm", "earlier")]
    [InlineData(false, "confirm", true, "confirm", "now")]
    [InlineData(true, "confirm", true, "confirm", "earlier")]
    public void Stricter_OfARetrysInheritedAndOwnDecisions_KeepsTheOneThatHoldsItMore(bool earlierGated, string earlierThen, bool nowGated, string nowThen, string expected)
    {
        var earlier = new BudgetGateDecision("checkout", "low", 5, 10, earlierThen, earlierGated, null, _time.GetUtcNow(), "earlier");
        var now = new BudgetGateDecision("checkout", "ok", 50, 10, nowThen, nowGated, null, _time.GetUtcNow(), "now");

        Assert.Equal(expected, BudgetGateDecision.Stricter(earlier, now).Reason);
        Assert.Same(now, BudgetGateDecision.Stricter(null, now));
    }

    private void Evaluated(double remainingPercent) =>
        _budgets.Record(new SloStatus("checkout", "checkout", 99.9, "28d", ErrorBudget.StateOf(remainingPercent / 100, 0.25), 99.9 + (remainingPercent / 1000), remainingPercent, 1, _time.GetUtcNow(), null));
}
