using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Slos;

/// <summary>
/// The latest budget of every configured SLO as this node evaluated it, and the budget gate's decision from it. Every
/// node evaluates on its own (<see cref="SloEvaluator"/>), so nothing is stored: a node decides from what it read itself.
/// </summary>
public sealed class SloBudgets
{
    // An evaluation this many intervals old is no longer a reading: the evaluator is stuck, so the figure could be anything.
    private const int StaleAfterIntervals = 3;

    // A pass may take several query timeouts (an SLO asks up to four queries one after another) on top of the interval.
    private const int StaleAfterTimeouts = 4;

    private readonly ConcurrentDictionary<string, SloStatus> _latest = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Slo> _slos;
    private readonly TimeProvider _time;
    private readonly TimeSpan _staleAfter;

    /// <summary>Creates the budgets, every SLO unknown until its first evaluation.</summary>
    /// <param name="options">The engine's options (SLOs and Prometheus).</param>
    /// <param name="time">The clock.</param>
    public SloBudgets(IOptions<RunbookEngineOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        Slos = Slo.From(options.Value.Slos);
        _slos = Slos.ToDictionary(s => s.Name, StringComparer.Ordinal);
        _time = time;
        var prometheus = options.Value.Prometheus;
        _staleAfter = StaleAfter(prometheus.EvaluationInterval, prometheus.Timeout);
    }

    /// <summary>
    /// How old an evaluation may be before it reads as unknown: three intervals, or an interval and four query timeouts
    /// when those are longer, so that slow answers within the timeout do not flip an SLO to unknown.
    /// </summary>
    /// <param name="interval">The evaluation interval.</param>
    /// <param name="timeout">One query's timeout.</param>
    /// <returns>The age.</returns>
    public static TimeSpan StaleAfter(TimeSpan interval, TimeSpan timeout)
    {
        var byIntervals = interval * StaleAfterIntervals;
        var byTimeouts = interval + (timeout * StaleAfterTimeouts);
        return byIntervals > byTimeouts ? byIntervals : byTimeouts;
    }

    /// <summary>The configured SLOs, in configuration order.</summary>
    public IReadOnlyList<Slo> Slos { get; }

    /// <summary>Whether an SLO by this name is configured.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when it is.</returns>
    public bool Knows(string name) => _slos.ContainsKey(name);

    /// <summary>An SLO by name, or null.</summary>
    /// <param name="name">The name.</param>
    /// <returns>The SLO.</returns>
    public Slo? Find(string name) => _slos.GetValueOrDefault(name);

    /// <summary>Every SLO's latest status, an unevaluated or stale one as unknown.</summary>
    /// <returns>The statuses in configuration order.</returns>
    public IReadOnlyList<SloStatus> Current() => [.. Slos.Select(Current)];

    /// <summary>The evaluation last kept for an SLO, as it was (not aged into unknown), or null.</summary>
    /// <param name="name">The SLO's name.</param>
    /// <returns>The status.</returns>
    public SloStatus? Latest(string name) => _latest.GetValueOrDefault(name);

    /// <summary>Keeps an evaluation.</summary>
    /// <param name="status">The SLO's new status.</param>
    public void Record(SloStatus status)
    {
        ArgumentNullException.ThrowIfNull(status);
        _latest[status.Name] = status;
    }

    /// <summary>
    /// What a budget gate decides now: gated when the SLO's budget left is below the threshold, and when it is unknown
    /// (never evaluated, stale, or Prometheus failed), since a budget nobody can read may be spent.
    /// </summary>
    /// <param name="gate">The runbook's gate.</param>
    /// <returns>The decision with the figure it was made on.</returns>
    public BudgetGateDecision Decide(BudgetGate gate)
    {
        ArgumentNullException.ThrowIfNull(gate);
        var now = _time.GetUtcNow();
        var then = gate.Then == RunMode.Shadow ? "shadow" : "confirm";
        var below = gate.BelowPercent.ToString("0.##", CultureInfo.InvariantCulture);
        if (!_slos.TryGetValue(gate.Slo, out var slo))
        {
            // The catalog refuses such a runbook; a version pinned before the SLO was removed from configuration can still run.
            return new BudgetGateDecision(gate.Slo, "unknown", null, gate.BelowPercent, then, true, null, now,
                $"SLO '{gate.Slo}' is not configured on this host, so its budget is unknown: the run acts as {then}");
        }

        var status = Current(slo);
        if (status.State == SloState.Unknown || status.BudgetRemainingPercent is not { } remaining)
        {
            return new BudgetGateDecision(slo.Name, "unknown", null, gate.BelowPercent, then, true, status.EvaluatedAt, now,
                $"the error budget of {slo.Name} is unknown ({status.Error}), so the run acts as {then}");
        }

        var left = remaining.ToString("0.##", CultureInfo.InvariantCulture);
        var state = status.State.ToString().ToLowerInvariant();
        return remaining < gate.BelowPercent
            ? new BudgetGateDecision(slo.Name, state, remaining, gate.BelowPercent, then, true, status.EvaluatedAt, now,
                $"{left}% of the error budget of {slo.Name} is left, below the gate's {below}%: the run acts as {then}")
            : new BudgetGateDecision(slo.Name, state, remaining, gate.BelowPercent, then, false, status.EvaluatedAt, now,
                $"{left}% of the error budget of {slo.Name} is left, not below the gate's {below}%: the run acts in its own mode");
    }

    private SloStatus Current(Slo slo)
    {
        if (!_latest.TryGetValue(slo.Name, out var status))
        {
            return new SloStatus(slo.Name, slo.Service, slo.Objective * 100, slo.WindowText, SloState.Unknown, null, null, null, null, "not evaluated yet");
        }

        return status.EvaluatedAt is { } at && _time.GetUtcNow() - at > _staleAfter && status.State != SloState.Unknown
            ? status with
            {
                State = SloState.Unknown,
                Sli = null,
                BudgetRemainingPercent = null,
                BurnRate = null,
                Error = $"the last evaluation ({at:u}) is older than {Durations.Format(_staleAfter)}; the evaluator is stuck or Prometheus too slow",
            }
            : status;
    }
}
