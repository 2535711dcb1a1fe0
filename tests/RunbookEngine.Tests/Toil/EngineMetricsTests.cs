using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Toil;

namespace RunbookEngine.Tests.Toil;

public sealed class EngineMetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void label_values_are_escaped_and_histograms_are_cumulative()
    {
        var metrics = new EngineMetrics();
        var runbook = "odd \"name\"\\with\nbreak";
        metrics.StepEnded(runbook, new StepOutcome(1, "s", StepKind.Automated, StepStatus.Succeeded, T0, T0.AddSeconds(0.07), 1, "", null, "runbook"));
        metrics.StepEnded(runbook, new StepOutcome(2, "s", StepKind.Automated, StepStatus.Succeeded, T0, T0.AddSeconds(2), 1, "", null, "runbook"));

        var text = metrics.Write(new Dictionary<RunStatus, long>(), []);

        const string labels = "runbook=\"odd \\\"name\\\"\\\\with\\nbreak\",kind=\"Automated\",status=\"Succeeded\"";
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"0.05\"}} 0\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"0.1\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"5\"}} 2\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_count{{{labels}}} 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public void an_ended_run_adds_its_toil_and_the_gauges_come_from_the_store()
    {
        var metrics = new EngineMetrics();
        var run = new RunRecord("r1", "prune", null, "h", RunTrigger.Manual, "alice", "{}", RunStatus.Running, 1, "n", null, T0, T0, null, null, null, ManualMinutes: 20);
        StepOutcome[] steps = [new(1, "do", StepKind.Manual, StepStatus.Succeeded, T0, T0.AddMinutes(3), 1, "", null, "bob", PickedUpAt: T0.AddMinutes(1))];

        metrics.RunEnded(run, RunStatus.Succeeded, T0.AddMinutes(4), steps);
        metrics.RunEnded(run, RunStatus.Succeeded, T0.AddMinutes(4), steps);
        var text = metrics.Write(new Dictionary<RunStatus, long> { [RunStatus.Queued] = 7 }, [("prune", true), ("other", false)]);

        Assert.Contains("runbookengine_runs_total{runbook=\"prune\",status=\"Succeeded\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_minutes_saved_total{runbook=\"prune\"} 36\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_human_minutes_total{runbook=\"prune\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_active{status=\"Queued\"} 7\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_active{status=\"WaitingForHuman\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_breaker_open{runbook=\"other\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_breaker_open{runbook=\"prune\"} 1\n", text, StringComparison.Ordinal);
    }
}
