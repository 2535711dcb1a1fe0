using Quartz;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Runs on Quartz: one job per run whose identity is the run id, and a trigger per execution (the first dispatch, each
/// retry, each wake-up, each re-check of a busy key). The job lives while a trigger still points at it.
/// </summary>
internal sealed class QuartzRunDispatcher : IRunDispatcher
{
    // A way to the scheduler rather than the scheduler: the host's factory hands out a new one if it was shut down.
    private readonly Func<CancellationToken, ValueTask<IScheduler>> _scheduler;

    private readonly TimeProvider _time;

    /// <summary>The host's dispatcher, writing through the scheduler its factory serves.</summary>
    /// <param name="schedulers">The host's scheduler factory.</param>
    /// <param name="time">The clock.</param>
    public QuartzRunDispatcher(ISchedulerFactory schedulers, TimeProvider time)
        : this(schedulers.GetScheduler, time)
    {
    }

    private QuartzRunDispatcher(Func<CancellationToken, ValueTask<IScheduler>> scheduler, TimeProvider time)
    {
        _scheduler = scheduler;
        _time = time;
    }

    /// <summary>
    /// A dispatcher writing through the scheduler that executes a job. Late in a shutdown that scheduler refuses new
    /// triggers, where the factory would build a new scheduler; a run handed back then is left to the sweeper.
    /// </summary>
    /// <param name="scheduler">The scheduler executing the job.</param>
    /// <param name="time">The clock.</param>
    /// <returns>The dispatcher.</returns>
    public static QuartzRunDispatcher Of(IScheduler scheduler, TimeProvider time) => new(_ => ValueTask.FromResult(scheduler), time);

    public async Task DispatchAsync(string runId, CancellationToken cancellationToken)
    {
        var scheduler = await _scheduler(cancellationToken);
        var job = RunJob.Detail(runId);
        var trigger = TriggerBuilder.Create()
            .WithIdentity(runId, RunJob.Group)
            .StartNow()
            .Build();
        try
        {
            await scheduler.ScheduleJob(job, trigger, default, cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Already dispatched (by the sweeper or a retried request): the job identity is the run id.
        }
    }

    public async Task DispatchAttemptAsync(string runId, int attempt, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var scheduler = await _scheduler(cancellationToken);

        // A second trigger on the same job: the job outlives the failed execution because a trigger still points at it.
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"{runId}-attempt-{attempt}", RunJob.Group)
            .ForJob(RunJob.Key(runId))
            .StartAt(at)
            .Build();
        try
        {
            await scheduler.ScheduleTrigger(trigger, default, cancellationToken);
        }
        catch (ObjectAlreadyExistsException)
        {
            // A try that the store took before its answer was lost counts as done.
        }
        catch (SchedulerException ex) when (ex is not JobPersistenceException)
        {
            // Late in a shutdown the executing scheduler refuses new triggers: the run is queued, so the sweeper has it.
            throw new RunDispatchException(ex.Message, ex);
        }
    }

    public async Task ResumeAsync(string runId, int attempt, CancellationToken cancellationToken)
    {
        try
        {
            var scheduler = await _scheduler(cancellationToken);
            var trigger = TriggerBuilder.Create()
                .WithIdentity($"{runId}-resume-{attempt}", RunJob.Group)
                .ForJob(RunJob.Key(runId))
                .StartNow()
                .Build();
            await scheduler.ScheduleTrigger(trigger, default, cancellationToken);
        }
        catch (SchedulerException ex)
        {
            throw new RunDispatchException(ex.Message, ex);
        }
    }

    public async Task WakeAsync(string runId, DateTimeOffset? at, CancellationToken cancellationToken)
    {
        var scheduler = await _scheduler(cancellationToken);
        var when = at is { } due && due > _time.GetUtcNow() ? due : _time.GetUtcNow();
        for (var tries = 0; ; tries++)
        {
            var trigger = TriggerBuilder.Create()
                .WithIdentity($"{runId}-wake-{Guid.NewGuid():N}", RunJob.Group)
                .ForJob(RunJob.Key(runId))
                .StartAt(when)
                .Build();
            try
            {
                // The run's job survives while another trigger (a wait's deadline) still points at it.
                if (await scheduler.Exists(RunJob.Key(runId), cancellationToken))
                {
                    await scheduler.ScheduleTrigger(trigger, default, cancellationToken);
                }
                else
                {
                    await scheduler.ScheduleJob(RunJob.Detail(runId), trigger, default, cancellationToken);
                }

                return;
            }
            catch (JobPersistenceException) when (tries < 3)
            {
                // The job ended or appeared between the check and the write; look again.
            }
        }
    }

    public async Task RecheckKeyAsync(string runId, TimeSpan delay, CancellationToken cancellationToken)
    {
        var scheduler = await _scheduler(cancellationToken);
        var now = _time.GetUtcNow();
        var trigger = TriggerBuilder.Create()
            .WithIdentity($"{runId}-wait-{now.ToUnixTimeMilliseconds()}", RunJob.Group)
            .ForJob(RunJob.Key(runId))
            .StartAt(now + delay)
            .Build();
        await scheduler.ScheduleTrigger(trigger, default, cancellationToken);
    }

    public async Task InterruptAsync(string runId, CancellationToken cancellationToken)
    {
        var scheduler = await _scheduler(cancellationToken);
        await scheduler.Interrupt(RunJob.Key(runId), cancellationToken);
    }

    public async Task RemoveAsync(string runId, CancellationToken cancellationToken)
    {
        var scheduler = await _scheduler(cancellationToken);
        try
        {
            await scheduler.DeleteJob(RunJob.Key(runId), cancellationToken);
        }
        catch (SchedulerException ex)
        {
            throw new RunDispatchException(ex.Message, ex);
        }
    }
}
