using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Toil;

namespace RunbookEngine.Tests.Toil;

/// <summary>The toil arithmetic on journals whose figures are worked out by hand in each test.</summary>
public sealed class ToilCalculatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    private static DateTimeOffset At(double minutes) => T0.AddMinutes(minutes);

    private static StepOutcome Automated(int sequence, double start, double end, StepStatus status = StepStatus.Succeeded, double? estimate = null, int attempts = 1) =>
        new(sequence, $"step {sequence}", StepKind.Automated, status, At(start), At(end), attempts, "", null, StepOutcome.MachineActor, ManualMinutes: estimate);

    private static StepOutcome Human(int sequence, StepKind kind, double asked, double? answered, StepStatus status, string actor = "bob", double? pickedUp = null, double? estimate = null) =>
        new(sequence, $"human {sequence}", kind, status, At(asked), answered is { } a ? At(a) : null, 1, "", null, actor,
            PickedUpAt: pickedUp is { } p ? At(p) : null, ManualMinutes: estimate);

    [Fact]
    public void a_fully_automated_success_saves_its_whole_baseline()
    {
        // Baseline 20; no human steps; the run took 3 minutes of machine time.
        var toil = ToilCalculator.ForRun(RunStatus.Succeeded, At(0), At(3), 20, [Automated(1, 0, 1), Automated(2, 1, 3)]);

        Assert.Equal((20.0, 3.0, 0.0, 20.0), (toil.BaselineMinutes, toil.AutomatedMinutes, toil.HumanMinutes, toil.SavedMinutes));
    }

    [Theory]
    [InlineData(RunTrigger.Alert, RunMode.Shadow)]
    [InlineData(RunTrigger.Drill, RunMode.Shadow)]
    [InlineData(RunTrigger.Drill, RunMode.Auto)]
    public void a_shadow_run_or_a_drill_that_succeeds_saves_nothing_since_all_it_did_was_look(RunTrigger trigger, RunMode mode)
    {
        // Baseline 20 and a step estimate of 5: both would count for a run that acted.
        var toil = ToilCalculator.ForRun(RunStatus.Succeeded, At(0), At(3), 20, [Automated(1, 0, 3, estimate: 5)], ToilCalculator.Acted(trigger, mode));

        Assert.Equal((0.0, 3.0), (toil.SavedMinutes, toil.AutomatedMinutes));
        Assert.Empty(toil.Steps);
        Assert.True(ToilCalculator.Acted(RunTrigger.Alert, RunMode.Confirm));
    }

    [Fact]
    public void a_picked_up_manual_step_counts_from_pickup_to_completion_and_its_wait_is_not_automated_time()
    {
        // Asked at 1, picked up at 4, done at 10: 6 human minutes. The run spans 0..12 with 9 minutes spent waiting
        // (1..10), so the engine worked 3. Saved = 20 - 6 = 14.
        var toil = ToilCalculator.ForRun(RunStatus.Succeeded, At(0), At(12), 20,
            [Automated(1, 0, 1), Human(2, StepKind.Manual, 1, 10, StepStatus.Succeeded, pickedUp: 4, estimate: 5), Automated(3, 10, 12)]);

        Assert.Equal((6.0, 3.0, 14.0), (toil.HumanMinutes, toil.AutomatedMinutes, toil.SavedMinutes));
    }

    [Fact]
    public void without_a_pickup_an_answered_step_counts_its_declared_estimate_or_nothing()
    {
        // Manual step answered with no pickup: its estimate, 5. Approval answered with no pickup and no estimate: 0.
        var toil = ToilCalculator.ForRun(RunStatus.Succeeded, At(0), At(30), 20,
            [Human(1, StepKind.Manual, 0, 10, StepStatus.Succeeded, estimate: 5), Human(2, StepKind.Approval, 10, 29, StepStatus.Succeeded)]);

        Assert.Equal((5.0, 15.0), (toil.HumanMinutes, toil.SavedMinutes));
        Assert.Equal(1.0, toil.AutomatedMinutes, 6);
    }

    [Fact]
    public void a_failed_run_saves_nothing_but_its_human_minutes_still_count()
    {
        var toil = ToilCalculator.ForRun(RunStatus.Failed, At(0), At(5), 20,
            [Human(1, StepKind.Manual, 0, 4, StepStatus.Succeeded, pickedUp: 1), Automated(2, 4, 5, StepStatus.Failed)]);

        Assert.Equal((3.0, 0.0), (toil.HumanMinutes, toil.SavedMinutes));
    }

    [Fact]
    public void a_rejected_approval_fails_the_run_and_counts_the_time_the_approver_spent()
    {
        // Picked up at 2, rejected at 2.5: half a minute of a person's time, nothing saved.
        var toil = ToilCalculator.ForRun(RunStatus.Failed, At(0), At(3), 20,
            [Automated(1, 0, 1), Human(2, StepKind.Approval, 1, 2.5, StepStatus.Failed, pickedUp: 2)]);

        Assert.Equal((0.5, 0.0), (toil.HumanMinutes, toil.SavedMinutes));
    }

    [Fact]
    public void a_wait_that_timed_out_cost_nobody_anything()
    {
        // Nobody answered within 30 minutes: no actor, no pickup, so no human minutes even with an estimate.
        var toil = ToilCalculator.ForRun(RunStatus.Failed, At(0), At(31), 20,
            [Automated(1, 0, 1), Human(2, StepKind.Approval, 1, 31, StepStatus.TimedOut, actor: "", estimate: 2)]);

        // The engine worked the first minute; the other 30 were the wait.
        Assert.Equal((0.0, 0.0, 1.0), (toil.HumanMinutes, toil.SavedMinutes, toil.AutomatedMinutes));
    }

    [Fact]
    public void a_run_recovered_after_a_crash_counts_each_step_once()
    {
        // Step 2 was in flight when a node died and ran again on another (attempts 2): the journal keeps one entry per
        // step, so the baseline is credited once and the human step is counted once.
        var toil = ToilCalculator.ForRun(RunStatus.Succeeded, At(0), At(8), 20,
            [Human(1, StepKind.Manual, 0, 3, StepStatus.Succeeded, pickedUp: 1), Automated(2, 3, 8, attempts: 2)]);

        Assert.Equal((2.0, 18.0, 5.0), (toil.HumanMinutes, toil.SavedMinutes, toil.AutomatedMinutes));
    }

    [Fact]
    public void a_retry_is_its_own_run_and_only_the_one_that_succeeds_saves()
    {
        var first = ToilCalculator.ForRun(RunStatus.Failed, At(0), At(2), 20, [Automated(1, 0, 2, StepStatus.Failed)]);
        var retry = ToilCalculator.ForRun(RunStatus.Succeeded, At(5), At(6), 20, [Automated(1, 5, 6)]);

        Assert.Equal(20.0, first.SavedMinutes + retry.SavedMinutes);
    }

    [Fact]
    public void without_a_runbook_baseline_the_declared_step_estimates_are_the_baseline_and_are_attributed_per_step()
    {
        // No manual_minutes: baseline = 4 + 6 + 3 (the Manual step's estimate is part of doing it by hand) = 13.
        // The Manual step was picked up at 1 and done at 2: 1 human minute. Saved 12, of which steps 1 and 3 carry 4 and 6.
        var toil = ToilCalculator.ForRun(RunStatus.Succeeded, At(0), At(4), null,
            [Automated(1, 0, 1, estimate: 4), Human(2, StepKind.Manual, 1, 2, StepStatus.Succeeded, pickedUp: 1, estimate: 3), Automated(3, 2, 4, estimate: 6)]);

        Assert.Equal((13.0, 1.0, 12.0), (toil.BaselineMinutes, toil.HumanMinutes, toil.SavedMinutes));
        Assert.Equal([(1, 4.0), (3, 6.0)], toil.Steps.Select(s => (s.Sequence, s.Minutes)));
    }

    [Fact]
    public void a_run_that_still_waits_saves_nothing_yet()
    {
        var toil = ToilCalculator.ForRun(RunStatus.WaitingForHuman, At(0), null, 20, [Human(1, StepKind.Approval, 0, null, StepStatus.WaitingForHuman, actor: "")]);

        Assert.Equal((0.0, 0.0, 0.0), (toil.HumanMinutes, toil.SavedMinutes, toil.AutomatedMinutes));
    }

    [Theory]
    [InlineData(new double[] { 5 }, 0.5, 5)]
    [InlineData(new double[] { 1, 2, 3, 4 }, 0.5, 2)]
    [InlineData(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 }, 0.9, 9)]
    [InlineData(new double[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 }, 0.9, 10)]
    public void percentiles_are_nearest_rank(double[] sorted, double p, double expected) =>
        Assert.Equal(expected, ToilReports.Percentile(sorted, p));
}
