using Hangfire;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Never depends on a job the scheduler may sit on. Once a second, on every node, it dispatches again the runs whose
/// dispatch was lost: queued runs handed to the scheduler more than <see cref="Bound"/> before the oldest job still
/// waiting for a worker (recorded but never enqueued, a job fetched by a node that died, or fetched and never run, the
/// embedded scheduler's jobs gone with a restart), running under a
/// claim whose node is dead, and resting past their wake-up. The store marks each so that one node re-dispatches it
/// once per bound; the run's claim makes a duplicate delivery harmless.
/// </summary>
internal sealed partial class RunWatchdog(IRunStore store, IRunDispatcher dispatcher, Func<JobStorage> storage, StoreHealth health, StoreRetry retry, TimeProvider time, ILogger<RunWatchdog> logger) : BackgroundService
{
    /// <summary>
    /// How long a dispatched run may take to start before it is dispatched again: well above a healthy pickup (well
    /// under a second), and short enough that a lost job costs seconds, not minutes.
    /// </summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failing = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                failing = false;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Every second, not backing off: the store's return must be seen within a second, since takeovers wait
                // for the store to have answered steadily (StoreHealth).
                health.Failed();
                if (!failing)
                {
                    LogSweepFailed(ex);
                }

                failing = true;
                if (StoreRetry.IsUnavailable(ex))
                {
                    retry.DropIdleConnections();
                }
            }

            await Task.Delay(Interval, time, stoppingToken);
        }
    }

    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        // Runs waiting for a worker are not lost, only late, or a backlog would be dispatched again and again as it
        // drains. Hangfire's queue is first in, first out: a queued run handed to it well before the oldest job still
        // waiting there cannot be in it (its job was fetched by a node that died before claiming the run, and
        // Hangfire fetches such a job again only once no fresh one is left). With nothing waiting, every run handed
        // over more than the bound ago is lost.
        var now = time.GetUtcNow();
        var oldest = storage().GetMonitoringApi().EnqueuedJobs("default", 0, 1).Select(job => job.Value?.EnqueuedAt).FirstOrDefault();
        var waitingSince = oldest is { } enqueuedAt ? new DateTimeOffset(DateTime.SpecifyKind(enqueuedAt, DateTimeKind.Utc)) : now;
        var queuedBefore = (waitingSince < now ? waitingSince : now) - Bound;
        var overdue = await store.ClaimOverdueRunsAsync(now, Bound, queuedBefore, 500, cancellationToken);
        foreach (var run in overdue)
        {
            switch (run.Status)
            {
                case Scripting.Execution.RunStatus.Queued:
                    LogDispatched(run.RunId);
                    await dispatcher.DispatchAsync(run.RunId, cancellationToken);
                    break;
                case Scripting.Execution.RunStatus.Running:
                    LogRecovering(run.RunId);
                    await dispatcher.DispatchAsync(run.RunId, cancellationToken);
                    break;
                default:
                    LogWoken(run.RunId);
                    await dispatcher.WakeAsync(run.RunId, null, cancellationToken);
                    break;
            }
        }

        return overdue.Count;
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Run {RunId} was queued but had not started; dispatched it again")]
    private partial void LogDispatched(string runId);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "The run watchdog could not read the store; trying again every second")]
    private partial void LogSweepFailed(Exception exception);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Run {RunId} was due to go on after waiting for a person but had not; woke it now")]
    private partial void LogWoken(string runId);

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Run {RunId} runs under the claim of a node that stopped renewing it; dispatched it for another node to take over")]
    private partial void LogRecovering(string runId);
}
