using Hangfire;
using Hangfire.Common;
using Hangfire.Dashboard;
using Hangfire.Server;
using RunbookEngine.Runs;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// The Hangfire job that executes one run. Its only argument is the run id (the dashboard shows arguments in full, so
/// nothing else, least of all a parameter, goes in a job); the attempt itself is <see cref="RunLifecycle"/>'s, which
/// reads everything else from the run store.
/// </summary>
public sealed class RunJob
{
    private readonly RunLifecycle _lifecycle;
    private readonly IRunDispatcher _dispatcher;
    private readonly StoreHealth _health;

    internal RunJob(RunLifecycle lifecycle, IRunDispatcher dispatcher, StoreHealth health)
    {
        _lifecycle = lifecycle;
        _dispatcher = dispatcher;
        _health = health;
    }

    /// <summary>Executes one attempt of the run, under a claim of its own.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="context">Hangfire's context (null when enqueued; Hangfire fills it in), for the job's id.</param>
    /// <returns>A task that completes when the attempt ended, rests, stepped back or was handed back.</returns>
    // Hangfire must never run a run again behind the engine's back: a failed run is the engine's to retry, or not.
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [RunDisplayName]
    public Task ExecuteAsync(string runId, PerformContext? context)
    {
        // Right after the store was away, every claim looks dead only because no node could renew it: take nothing over
        // until the nodes have had time to renew theirs.
        var takeover = _health.SteadyFor(SqlRunStore.ClaimLease * 2) ? ClaimTakeover.FromDeadNode : ClaimTakeover.Never;
        return _lifecycle.ExecuteAsync(runId, new RunExecution(Guid.NewGuid().ToString("N"), takeover, context?.BackgroundJob.Id), _dispatcher, CancellationToken.None);
    }
}

/// <summary>Names a run's job on the Hangfire dashboard by its runbook and run id, from the run store.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class RunDisplayNameAttribute() : JobDisplayNameAttribute("run {0}")
{
    /// <summary>The runbook of a run id, or null; set by the host that serves the dashboard.</summary>
    public static Func<string, string?>? RunbookOf { get; set; }

    public override string Format(DashboardContext context, Job job)
    {
        var runId = job.Args.Count > 0 ? job.Args[0] as string : null;
        return runId is not null && RunbookOf?.Invoke(runId) is { } runbook ? $"{runbook} · run {runId}" : base.Format(context, job);
    }
}

/// <summary>
/// Whether the store has answered steadily: the watchdog and the heartbeat record each failure. Takeovers wait for a
/// steady store, since while it is away no node can renew its claims.
/// </summary>
internal sealed class StoreHealth(TimeProvider time)
{
    private long _lastFailureTicks;

    public void Failed() => Interlocked.Exchange(ref _lastFailureTicks, time.GetUtcNow().UtcTicks);

    public bool SteadyFor(TimeSpan span)
    {
        var last = Interlocked.Read(ref _lastFailureTicks);
        return last == 0 || time.GetUtcNow().UtcTicks - last >= span.Ticks;
    }
}
