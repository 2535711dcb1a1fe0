using Quartz;
using RunbookEngine.Runs;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// The Quartz job that executes one run. It carries nothing but its identity (the run id); the attempt itself is
/// <see cref="RunLifecycle"/>'s, which reads everything else from the run store.
/// </summary>
internal sealed class RunJob(RunLifecycle lifecycle, TimeProvider time) : IJob
{
    public const string Group = "runs";

    public static JobKey Key(string runId) => new(runId, Group);

    /// <summary>The run's job: its identity is the run id, and a node that dies running it hands it to another.</summary>
    public static IJobDetail Detail(string runId) => JobBuilder.Create<RunJob>().WithIdentity(Key(runId)).RequestRecovery().Build();

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var recovers = context.Recovering ? context.MergedJobDataMap.GetString(SchedulerConstants.FailedJobOriginalTriggerName) : null;
        await lifecycle.ExecuteAsync(context.JobDetail.Key.Name, new RunExecution(context.Trigger.Key.Name, context.Recovering, recovers), Here(context), cancellationToken);
    }

    /// <summary>
    /// Dispatches through the scheduler executing this job, as the job always has: late in a shutdown it refuses, and
    /// the run is left to the sweeper. A person's deadline goes through the host's dispatcher, so it is written even then.
    /// </summary>
    private QuartzRunDispatcher Here(IJobExecutionContext context) => QuartzRunDispatcher.Of(context.Scheduler, time);
}
