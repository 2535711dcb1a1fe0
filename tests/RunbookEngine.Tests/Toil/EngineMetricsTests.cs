using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Prometheus;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Toil;

namespace RunbookEngine.Tests.Toil;

public sealed class EngineMetricsTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 23, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task label_values_are_escaped_and_histograms_are_cumulative()
    {
        var metrics = new EngineMetrics(Metrics.NewCustomRegistry());
        var runbook = "odd \"name\"\\with\nbreak";
        metrics.StepEnded(runbook, new StepOutcome(1, "s", StepKind.Automated, StepStatus.Succeeded, T0, T0.AddSeconds(0.07), 1, "", null, "runbook"));
        metrics.StepEnded(runbook, new StepOutcome(2, "s", StepKind.Automated, StepStatus.Succeeded, T0, T0.AddSeconds(2), 1, "", null, "runbook"));

        var text = await ScrapeAsync(metrics);

        const string labels = "runbook=\"odd \\\"name\\\"\\\\with\\nbreak\",kind=\"Automated\",status=\"Succeeded\"";
        Assert.Contains("# TYPE runbookengine_step_duration_seconds histogram\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"0.05\"}} 0\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"0.1\"}} 1\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"5\"}} 2\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_bucket{{{labels},le=\"+Inf\"}} 2\n", text, StringComparison.Ordinal);
        Assert.Contains($"runbookengine_step_duration_seconds_count{{{labels}}} 2\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task an_ended_run_adds_its_toil_and_the_gauges_come_from_the_store()
    {
        var metrics = new EngineMetrics(Metrics.NewCustomRegistry());
        var run = new RunRecord("r1", "prune", null, "h", RunTrigger.Manual, "alice", "{}", RunStatus.Running, 1, "n", null, T0, T0, null, null, null, ManualMinutes: 20);
        StepOutcome[] steps = [new(1, "do", StepKind.Manual, StepStatus.Succeeded, T0, T0.AddMinutes(3), 1, "", null, "bob", PickedUpAt: T0.AddMinutes(1))];

        metrics.RunEnded(run, RunStatus.Succeeded, T0.AddMinutes(4), steps);
        metrics.RunEnded(run, RunStatus.Succeeded, T0.AddMinutes(4), steps);
        metrics.AlertsReceived("generic", 3);
        metrics.SetCluster(new Dictionary<RunStatus, long> { [RunStatus.Queued] = 7 }, [("prune", true), ("other", false)]);
        var text = await ScrapeAsync(metrics);

        Assert.Contains("# TYPE runbookengine_runs_total counter\n", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE runbookengine_runs_active gauge\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_total{runbook=\"prune\",status=\"Succeeded\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_minutes_saved_total{runbook=\"prune\"} 36\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_human_minutes_total{runbook=\"prune\"} 4\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_alerts_received_total{source=\"generic\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_active{status=\"Queued\"} 7\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_active{status=\"WaitingForHuman\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_breaker_open{runbook=\"other\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_breaker_open{runbook=\"prune\"} 1\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_run_that_cost_more_than_its_baseline_adds_nothing_to_the_saved_counter()
    {
        var metrics = new EngineMetrics(Metrics.NewCustomRegistry());
        var run = new RunRecord("r1", "slow", null, "h", RunTrigger.Manual, "alice", "{}", RunStatus.Running, 1, "n", null, T0, T0, null, null, null, ManualMinutes: 1);
        StepOutcome[] steps = [new(1, "do", StepKind.Manual, StepStatus.Succeeded, T0, T0.AddMinutes(10), 1, "", null, "bob", PickedUpAt: T0)];

        metrics.RunEnded(run, RunStatus.Succeeded, T0.AddMinutes(10), steps);
        var text = await ScrapeAsync(metrics);

        Assert.Contains("runbookengine_minutes_saved_total{runbook=\"slow\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_human_minutes_total{runbook=\"slow\"} 10\n", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task hosts_in_one_process_keep_their_own_counts()
    {
        var one = new EngineMetrics(Metrics.NewCustomRegistry());
        var two = new EngineMetrics(Metrics.NewCustomRegistry());

        one.AlertsReceived("generic", 2);

        Assert.Contains("runbookengine_alerts_received_total{source=\"generic\"} 2\n", await ScrapeAsync(one), StringComparison.Ordinal);
        Assert.DoesNotContain("runbookengine_alerts_received_total{", await ScrapeAsync(two), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_store_is_read_once_per_scrape_and_a_breaker_that_is_gone_leaves_no_series()
    {
        var metrics = new EngineMetrics(Metrics.NewCustomRegistry());
        var store = new CountingStore { Queued = 2 };
        var breakers = new List<(string, bool)> { ("prune", true), ("deleted", true) };
        metrics.Registry.AddBeforeCollectCallback(async ct =>
        {
            metrics.SetCluster(await store.ActiveRunCountsAsync(ct), breakers);
        });

        var first = await ScrapeAsync(metrics);
        store.Queued = 5;
        breakers.RemoveAt(1);
        var second = await ScrapeAsync(metrics);

        Assert.Equal(2, store.Reads);
        Assert.Contains("runbookengine_runs_active{status=\"Queued\"} 2\n", first, StringComparison.Ordinal);
        Assert.Contains("runbookengine_breaker_open{runbook=\"deleted\"} 1\n", first, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_active{status=\"Queued\"} 5\n", second, StringComparison.Ordinal);
        Assert.Contains("runbookengine_breaker_open{runbook=\"prune\"} 1\n", second, StringComparison.Ordinal);
        Assert.DoesNotContain("runbook=\"deleted\"", second, StringComparison.Ordinal);
    }

    [Fact]
    public async Task without_the_store_the_gauges_go_away_and_the_counters_are_still_served()
    {
        var metrics = new EngineMetrics(Metrics.NewCustomRegistry());
        var store = new CountingStore { Queued = 3 };
        var breakers = new CircuitBreakers(null!, null!, Options.Create(new RunbookEngineOptions()), TimeProvider.System, NullLogger<CircuitBreakers>.Instance);
        metrics.SetCluster(new Dictionary<RunStatus, long> { [RunStatus.Queued] = 3 }, [("prune", true)]);
        metrics.AlertsReceived("generic", 1);
        store.Fails = true;

        await metrics.ReadClusterAsync(store, breakers, CancellationToken.None);
        var text = await ScrapeAsync(metrics);

        Assert.DoesNotContain("runbookengine_runs_active{", text, StringComparison.Ordinal);
        Assert.DoesNotContain("runbookengine_breaker_open{", text, StringComparison.Ordinal);
        Assert.Contains("runbookengine_alerts_received_total{source=\"generic\"} 1\n", text, StringComparison.Ordinal);
    }

    private static async Task<string> ScrapeAsync(EngineMetrics metrics)
    {
        using var stream = new MemoryStream();
        await metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private sealed class CountingStore : IToilStore
    {
        public long Queued { get; set; }

        public bool Fails { get; set; }

        public int Reads { get; private set; }

        public Task<IReadOnlyDictionary<RunStatus, long>> ActiveRunCountsAsync(CancellationToken cancellationToken)
        {
            Reads++;
            return Fails
                ? Task.FromException<IReadOnlyDictionary<RunStatus, long>>(new TimeoutException("the store is away"))
                : Task.FromResult<IReadOnlyDictionary<RunStatus, long>>(new Dictionary<RunStatus, long> { [RunStatus.Queued] = Queued });
        }

        public Task<IReadOnlyList<ToilRun>> ToilRunsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task<IReadOnlyList<UnautomatedCount>> UnautomatedAlertsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
