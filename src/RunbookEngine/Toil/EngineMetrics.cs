using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Prometheus;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Toil;

/// <summary>
/// This node's metrics for <c>/metrics</c>, as prometheus-net collectors on the host's own registry. Counters count
/// what happened on this node since it started (sum them across nodes: <c>sum(rate(...))</c>); each run is counted
/// once, by the node whose write ended it. The gauges (queue depth, breakers) are read from the shared store at scrape
/// time and are cluster-wide: take <c>max</c> across nodes, not the sum.
/// </summary>
public sealed class EngineMetrics
{
    private static readonly double[] Buckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private static readonly RunStatus[] ActiveStatuses = [RunStatus.Queued, RunStatus.Running, RunStatus.WaitingForHuman];

    private readonly Counter _runs;
    private readonly Counter _saved;
    private readonly Counter _human;
    private readonly Counter _alerts;
    private readonly Histogram _steps;
    private readonly Gauge _active;
    private readonly Gauge _breakers;
    private readonly Gauge _freshness;
    private readonly Counter _drills;
    private readonly ILogger _logger;

    /// <summary>Metrics nobody scrapes: a run's own process (<c>isolation: process</c>) counts nothing, its host does.</summary>
    public EngineMetrics()
        : this(Metrics.NewCustomRegistry())
    {
    }

    /// <summary>Creates the collectors on <paramref name="registry"/>.</summary>
    /// <param name="registry">The host's registry; never the static default, so hosts sharing a process keep their own counts.</param>
    /// <param name="logger">Where a scrape that could not read the store says so.</param>
    public EngineMetrics(CollectorRegistry registry, ILogger<EngineMetrics>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Registry = registry;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        var factory = Metrics.WithCustomRegistry(registry);
        _runs = factory.CreateCounter("runbookengine_runs_total", "Runs that ended on this node, by runbook and status.", ["runbook", "status"]);
        _saved = factory.CreateCounter("runbookengine_minutes_saved_total", "Toil minutes saved by runs that ended on this node (baseline less human minutes, runs that succeeded; a run that saved less than nothing adds nothing).", ["runbook"]);
        _human = factory.CreateCounter("runbookengine_human_minutes_total", "Minutes people spent on Manual steps and approvals of runs that ended on this node.", ["runbook"]);
        _steps = factory.CreateHistogram("runbookengine_step_duration_seconds", "How long steps took, by runbook, kind and outcome (human steps: the wait for a person).", ["runbook", "kind", "status"], new HistogramConfiguration { Buckets = Buckets });
        _alerts = factory.CreateCounter("runbookengine_alerts_received_total", "Alerts received and stored by this node, by source (resends included).", ["source"]);
        _active = factory.CreateGauge("runbookengine_runs_active", "Unfinished runs in the whole cluster by status; Queued is the queue depth.", ["status"]);
        _breakers = factory.CreateGauge("runbookengine_breaker_open", "1 while a runbook's circuit breaker is open (alerts start no runs of it), else 0.", ["runbook"]);
        _freshness = factory.CreateGauge("runbookengine_runbook_freshness", "Each runbook's freshness: 0 fresh, 1 aging, 2 stale (GET /api/runbooks/{name} says why).", ["runbook"]);
        _drills = factory.CreateCounter("runbookengine_drills_total", "Drill runs that ended on this node, by runbook and result (passed, failed, cancelled).", ["runbook", "result"]);
    }

    /// <summary>The registry the collectors live on, which <c>/metrics</c> exports.</summary>
    public CollectorRegistry Registry { get; }

    /// <summary>Counts a run that ended, with its toil figures.</summary>
    /// <param name="run">The run.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="finishedAt">When.</param>
    /// <param name="steps">Its journal.</param>
    public void RunEnded(RunRecord run, RunStatus status, DateTimeOffset finishedAt, IEnumerable<StepOutcome> steps)
    {
        ArgumentNullException.ThrowIfNull(run);
        _runs.WithLabels(run.Runbook, status.ToString()).Inc();
        if (run.Trigger == RunTrigger.Drill)
        {
            _drills.WithLabels(run.Runbook, status switch
            {
                RunStatus.Succeeded or RunStatus.Proposed => "passed",
                RunStatus.Failed or RunStatus.TimedOut => "failed",
                _ => "cancelled",
            }).Inc();
        }

        var toil = ToilCalculator.ForRun(status, run.StartedAt, finishedAt, run.ManualMinutes, steps, ToilCalculator.Acted(run.Trigger, run.Mode));

        // A counter cannot go down (Prometheus reads a drop as a restart), so a run on which people spent more than its
        // baseline adds nothing here; the toil reports keep its negative saving.
        _saved.WithLabels(run.Runbook).Inc(Math.Max(0, toil.SavedMinutes));
        _human.WithLabels(run.Runbook).Inc(toil.HumanMinutes);
    }

    /// <summary>Observes a step that ended.</summary>
    /// <param name="runbook">Its runbook.</param>
    /// <param name="step">The step.</param>
    public void StepEnded(string runbook, StepOutcome step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Duration is { } duration)
        {
            _steps.WithLabels(runbook, step.Kind.ToString(), step.Status.ToString()).Observe(duration.TotalSeconds);
        }
    }

    /// <summary>Counts alerts received and stored.</summary>
    /// <param name="source">The source.</param>
    /// <param name="count">How many.</param>
    public void AlertsReceived(string source, int count) => _alerts.WithLabels(source).Inc(count);

    /// <summary>
    /// Reads the cluster-wide gauges from the store; the registry calls it before each scrape, so one scrape reads
    /// the store once.
    /// </summary>
    /// <param name="store">The toil store (active runs).</param>
    /// <param name="breakers">The breakers.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>A task.</returns>
    public async Task ReadClusterAsync(IToilStore store, CircuitBreakers breakers, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(breakers);
        try
        {
            var active = await store.ActiveRunCountsAsync(cancellationToken);
            var states = await breakers.ListAsync(cancellationToken);
            SetCluster(active, states.Select(b => (b.Runbook, b.State == "open")));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // prometheus-net exports anyway when a callback fails, so last scrape's figures would pass for the
            // cluster's now. Without the store there is no figure: the series go away until it answers again, and
            // this node's own counters are still served.
            ForgetCluster();
            _logger.LogWarning(ex, "The cluster gauges of /metrics could not be read from the store");
        }
    }

    /// <summary>Sets the cluster-wide gauges.</summary>
    /// <param name="active">Unfinished runs by status, from the store.</param>
    /// <param name="breakers">Each runbook's breaker, open or not, from the store.</param>
    public void SetCluster(IReadOnlyDictionary<RunStatus, long> active, IEnumerable<(string Runbook, bool Open)> breakers)
    {
        ArgumentNullException.ThrowIfNull(active);
        ArgumentNullException.ThrowIfNull(breakers);
        foreach (var status in ActiveStatuses)
        {
            _active.WithLabels(status.ToString()).Set(active.GetValueOrDefault(status));
        }

        var current = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (runbook, open) in breakers)
        {
            current.Add(runbook);
            _breakers.WithLabels(runbook).Set(open ? 1 : 0);
        }

        // A runbook that was deleted has no breaker any more; its series must not linger at its last value.
        foreach (var labels in _breakers.GetAllLabelValues().Where(l => !current.Contains(l[0])).ToList())
        {
            _breakers.RemoveLabelled(labels);
        }
    }

    /// <summary>Reads every runbook's freshness for its gauge; the registry calls it before each scrape.</summary>
    /// <param name="freshness">Judges each catalog runbook from the store's facts.</param>
    /// <param name="cancellationToken">Cancels the reads.</param>
    /// <returns>A task.</returns>
    public async Task ReadFreshnessAsync(Trust.Freshness.FreshnessReader freshness, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(freshness);
        try
        {
            SetFreshness((await freshness.ForAllAsync(cancellationToken)).Select(f => (f.Key, f.Value.State)));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // As for the cluster gauges: no figure rather than last scrape's passing for now.
            foreach (var labels in _freshness.GetAllLabelValues().ToList())
            {
                _freshness.RemoveLabelled(labels);
            }

            _logger.LogWarning(ex, "The freshness gauges of /metrics could not be read from the store");
        }
    }

    /// <summary>Sets each runbook's freshness gauge; runbooks no longer in the catalog lose theirs.</summary>
    /// <param name="states">Each runbook's state.</param>
    public void SetFreshness(IEnumerable<(string Runbook, Trust.Freshness.FreshnessState State)> states)
    {
        ArgumentNullException.ThrowIfNull(states);
        var current = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (runbook, state) in states)
        {
            current.Add(runbook);
            _freshness.WithLabels(runbook).Set((int)state);
        }

        foreach (var labels in _freshness.GetAllLabelValues().Where(l => !current.Contains(l[0])).ToList())
        {
            _freshness.RemoveLabelled(labels);
        }
    }

    private void ForgetCluster()
    {
        foreach (var gauge in (Gauge[])[_active, _breakers])
        {
            foreach (var labels in gauge.GetAllLabelValues().ToList())
            {
                gauge.RemoveLabelled(labels);
            }
        }
    }
}
