using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Toil;

/// <summary>
/// This node's counters for <c>/metrics</c>, in Prometheus' text format. Counters count what happened on this node
/// since it started (sum them across nodes: <c>sum(rate(...))</c>); each run is counted once, by the node whose write
/// ended it. The gauges (queue depth, breakers) are read from the shared store at scrape time and are cluster-wide:
/// take <c>max</c> across nodes, not the sum.
/// </summary>
public sealed class EngineMetrics
{
    private static readonly double[] Buckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];

    private readonly ConcurrentDictionary<(string Runbook, string Status), long> _runs = new();
    private readonly ConcurrentDictionary<string, double> _saved = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, double> _human = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _alerts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Runbook, string Kind, string Status), Histogram> _steps = new();

    /// <summary>Counts a run that ended, with its toil figures.</summary>
    /// <param name="run">The run.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="finishedAt">When.</param>
    /// <param name="steps">Its journal.</param>
    public void RunEnded(RunRecord run, RunStatus status, DateTimeOffset finishedAt, IEnumerable<StepOutcome> steps)
    {
        ArgumentNullException.ThrowIfNull(run);
        _runs.AddOrUpdate((run.Runbook, status.ToString()), 1, (_, n) => n + 1);
        var toil = ToilCalculator.ForRun(status, run.StartedAt, finishedAt, run.ManualMinutes, steps);
        _saved.AddOrUpdate(run.Runbook, toil.SavedMinutes, (_, m) => m + toil.SavedMinutes);
        _human.AddOrUpdate(run.Runbook, toil.HumanMinutes, (_, m) => m + toil.HumanMinutes);
    }

    /// <summary>Observes a step that ended.</summary>
    /// <param name="runbook">Its runbook.</param>
    /// <param name="step">The step.</param>
    public void StepEnded(string runbook, StepOutcome step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (step.Duration is { } duration)
        {
            _steps.GetOrAdd((runbook, step.Kind.ToString(), step.Status.ToString()), _ => new Histogram()).Observe(duration.TotalSeconds);
        }
    }

    /// <summary>Counts alerts received and stored.</summary>
    /// <param name="source">The source.</param>
    /// <param name="count">How many.</param>
    public void AlertsReceived(string source, int count) => _alerts.AddOrUpdate(source, count, (_, n) => n + count);

    /// <summary>Writes every metric in Prometheus' text exposition format (version 0.0.4).</summary>
    /// <param name="active">Unfinished runs by status, from the store.</param>
    /// <param name="breakers">Each runbook's breaker, open or not, from the store.</param>
    /// <returns>The text.</returns>
    public string Write(IReadOnlyDictionary<RunStatus, long> active, IEnumerable<(string Runbook, bool Open)> breakers)
    {
        ArgumentNullException.ThrowIfNull(active);
        var text = new StringBuilder();
        Family(text, "runbookengine_runs_total", "counter", "Runs that ended on this node, by runbook and status.");
        foreach (var ((runbook, status), count) in _runs.OrderBy(e => e.Key))
        {
            Sample(text, "runbookengine_runs_total", [("runbook", runbook), ("status", status)], count);
        }

        Family(text, "runbookengine_minutes_saved_total", "counter", "Toil minutes saved by runs that ended on this node (baseline less human minutes, runs that succeeded).");
        foreach (var (runbook, minutes) in _saved.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            Sample(text, "runbookengine_minutes_saved_total", [("runbook", runbook)], minutes);
        }

        Family(text, "runbookengine_human_minutes_total", "counter", "Minutes people spent on Manual steps and approvals of runs that ended on this node.");
        foreach (var (runbook, minutes) in _human.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            Sample(text, "runbookengine_human_minutes_total", [("runbook", runbook)], minutes);
        }

        Family(text, "runbookengine_step_duration_seconds", "histogram", "How long steps took, by runbook, kind and outcome (human steps: the wait for a person).");
        foreach (var ((runbook, kind, status), histogram) in _steps.OrderBy(e => e.Key))
        {
            histogram.Write(text, "runbookengine_step_duration_seconds", [("runbook", runbook), ("kind", kind), ("status", status)]);
        }

        Family(text, "runbookengine_alerts_received_total", "counter", "Alerts received and stored by this node, by source (resends included).");
        foreach (var (source, count) in _alerts.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            Sample(text, "runbookengine_alerts_received_total", [("source", source)], count);
        }

        Family(text, "runbookengine_runs_active", "gauge", "Unfinished runs in the whole cluster by status; Queued is the queue depth.");
        foreach (var status in new[] { RunStatus.Queued, RunStatus.Running, RunStatus.WaitingForHuman })
        {
            Sample(text, "runbookengine_runs_active", [("status", status.ToString())], active.GetValueOrDefault(status));
        }

        Family(text, "runbookengine_breaker_open", "gauge", "1 while a runbook's circuit breaker is open (alerts start no runs of it), else 0.");
        foreach (var (runbook, open) in breakers.OrderBy(b => b.Runbook, StringComparer.Ordinal))
        {
            Sample(text, "runbookengine_breaker_open", [("runbook", runbook)], open ? 1 : 0);
        }

        return text.ToString();
    }

    private static void Family(StringBuilder text, string name, string type, string help) =>
        text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder text, string name, IReadOnlyList<(string Name, string Value)> labels, double value)
    {
        text.Append(name);
        if (labels.Count > 0)
        {
            text.Append('{').AppendJoin(',', labels.Select(l => $"{l.Name}=\"{Escape(l.Value)}\"")).Append('}');
        }

        text.Append(' ').Append(Format(value)).Append('\n');
    }

    private static string Format(double value) =>
        double.IsPositiveInfinity(value) ? "+Inf" : value.ToString("R", CultureInfo.InvariantCulture);

    // The text format escapes backslash, double quote and line feed in label values.
    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private sealed class Histogram
    {
        private readonly long[] _counts = new long[Buckets.Length];
        private readonly Lock _lock = new();
        private long _count;
        private double _sum;

        public void Observe(double value)
        {
            lock (_lock)
            {
                for (var i = 0; i < Buckets.Length; i++)
                {
                    if (value <= Buckets[i])
                    {
                        _counts[i]++;
                    }
                }

                _count++;
                _sum += value;
            }
        }

        public void Write(StringBuilder text, string name, IReadOnlyList<(string Name, string Value)> labels)
        {
            lock (_lock)
            {
                for (var i = 0; i < Buckets.Length; i++)
                {
                    Sample(text, name + "_bucket", [.. labels, ("le", Format(Buckets[i]))], _counts[i]);
                }

                Sample(text, name + "_bucket", [.. labels, ("le", "+Inf")], _count);
                Sample(text, name + "_sum", labels, _sum);
                Sample(text, name + "_count", labels, _count);
            }
        }
    }
}
