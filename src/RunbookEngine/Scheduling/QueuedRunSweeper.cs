using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Quartz;
using RunbookEngine.Runs;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Dispatches runs that were recorded but never reached the scheduler (the process died between the two writes).
/// Every node sweeps; dispatching twice is harmless because the job identity is the run id.
/// </summary>
internal sealed partial class QueuedRunSweeper(IRunStore store, RunService runs, ISchedulerFactory schedulers, TimeProvider time, ILogger<QueuedRunSweeper> logger) : BackgroundService
{
    // A run younger than this is still on its way to the scheduler through the normal path.
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogSweepFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    internal async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var dispatched = 0;
        foreach (var runId in await store.QueuedRunIdsAsync(time.GetUtcNow() - Grace, 500, cancellationToken))
        {
            if (await scheduler.GetJobDetail(RunJob.Key(runId), cancellationToken) is null)
            {
                await runs.DispatchAsync(runId, cancellationToken);
                LogDispatched(runId);
                dispatched++;
            }
        }

        // Runs waiting for a person whose answer came (or whose wait timed out) but whose wake-up trigger was lost.
        foreach (var runId in await store.RunsToWakeAsync(time.GetUtcNow() - Grace, 500, cancellationToken))
        {
            await runs.WakeAsync(runId, cancellationToken);
            LogWoken(runId);
            dispatched++;
        }

        return dispatched;
    }

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Run {RunId} was due to go on after waiting for a person but had no trigger; woke it now")]
    private partial void LogWoken(string runId);

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Run {RunId} was queued but never scheduled; dispatched it now")]
    private partial void LogDispatched(string runId);

    [LoggerMessage(EventId = 301, Level = LogLevel.Error, Message = "Sweeping queued runs failed; trying again at the next interval")]
    private partial void LogSweepFailed(Exception exception);
}
