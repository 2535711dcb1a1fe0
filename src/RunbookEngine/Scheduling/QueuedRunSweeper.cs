using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Dispatches runs that were recorded but never reached the scheduler (the process died between the two writes, or the
/// store went away between them), and queued runs whose job has nothing left that will fire it. Every node sweeps;
/// dispatching twice is harmless because the job identity is the run id and only a queued run starts.
/// </summary>
/// <remarks>
/// A sweep that fails because the store is away is tried again after a second, doubling up to the sweep interval,
/// instead of a whole interval later: when the store comes back, the runs that could not be dispatched during the
/// outage go out within seconds. Before each retry the connection pools drop their idle connections, which a restarted
/// server has closed; otherwise each of them fails one sweep in turn.
/// </remarks>
internal sealed partial class QueuedRunSweeper(IRunStore store, IRunDispatcher dispatcher, ISchedulerFactory schedulers, StoreRetry retry, TimeProvider time, ILogger<QueuedRunSweeper> logger) : BackgroundService
{
    // A run younger than this is still on its way to the scheduler through the normal path.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var failures = 0;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await SweepAsync(stoppingToken);
                failures = 0;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // One error per outage in the log, then quiet retries until a sweep succeeds.
                if (failures++ == 0)
                {
                    LogSweepFailed(ex);
                }

                if (StoreRetry.IsUnavailable(ex))
                {
                    retry.DropIdleConnections();
                }
            }

            var wait = failures == 0 ? Interval : TimeSpan.FromTicks(Math.Min(RetryFirst.Ticks << Math.Min(failures - 1, 10), Interval.Ticks));
            await Task.Delay(wait, time, stoppingToken);
        }
    }

    private static readonly TimeSpan RetryFirst = TimeSpan.FromSeconds(1);

    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var dispatched = 0;
        foreach (var runId in await store.QueuedRunIdsAsync(time.GetUtcNow() - Grace, 500, cancellationToken))
        {
            if (await scheduler.GetJobDetail(RunJob.Key(runId), cancellationToken) is null)
            {
                await dispatcher.DispatchAsync(runId, cancellationToken);
                LogDispatched(runId);
                dispatched++;
            }
            else if (!await HasLiveTriggerAsync(scheduler, runId, cancellationToken))
            {
                // The job outlived its triggers (its completion was not recorded, or a trigger went to ERROR while the
                // store failed under it): nothing would ever fire the run again.
                await dispatcher.WakeAsync(runId, null, cancellationToken);
                LogRefired(runId);
                dispatched++;
            }
        }

        // Runs waiting for a person whose answer came (or whose wait timed out) but whose wake-up trigger was lost.
        foreach (var runId in await store.RunsToWakeAsync(time.GetUtcNow() - Grace, 500, cancellationToken))
        {
            await dispatcher.WakeAsync(runId, null, cancellationToken);
            LogWoken(runId);
            dispatched++;
        }

        return dispatched;
    }

    /// <summary>
    /// Whether any trigger of the run's job is still alive: waiting, acquired, paused by a person, or complete, which is
    /// also how a one-shot trigger looks while its execution runs (a run waiting for its concurrency key, or on its way
    /// to a retry, is queued then). Only a trigger in ERROR, or none at all, leaves the run with nothing to fire it.
    /// </summary>
    private static async Task<bool> HasLiveTriggerAsync(IScheduler scheduler, string runId, CancellationToken cancellationToken)
    {
        foreach (var trigger in await scheduler.GetTriggersOfJob(RunJob.Key(runId), cancellationToken))
        {
            if (await scheduler.GetTriggerState(trigger.Key, cancellationToken) is not (TriggerState.Error or TriggerState.None))
            {
                return true;
            }
        }

        return false;
    }

    [LoggerMessage(EventId = 303, Level = LogLevel.Warning, Message = "Run {RunId} was queued but its job had no trigger left to fire it; gave it one now")]
    private partial void LogRefired(string runId);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Run {RunId} was due to go on after waiting for a person but had no trigger; woke it now")]
    private partial void LogWoken(string runId);

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Run {RunId} was queued but never scheduled; dispatched it now")]
    private partial void LogDispatched(string runId);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "Sweeping queued runs failed; trying again in a second, then less often until a sweep succeeds")]
    private partial void LogSweepFailed(Exception exception);
}
