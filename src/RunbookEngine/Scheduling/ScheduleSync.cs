using Microsoft.Extensions.Logging;
using Quartz;
using RunbookEngine.Catalog;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Keeps one Quartz cron trigger per runbook that has a <c>schedule:</c>, in step with the catalog: added, changed,
/// removed. Trigger identities are the runbook names, so every node writing the same schedule changes nothing, and
/// the clustered job store fires each occurrence on exactly one node.
/// </summary>
internal sealed partial class ScheduleSync(ISchedulerFactory schedulers, RunbookCatalog catalog, ILogger<ScheduleSync> logger)
{
    public const string Group = "schedules";

    public async Task SyncAsync(CancellationToken cancellationToken)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        foreach (var entry in catalog.Entries)
        {
            var jobKey = new JobKey(entry.Name, Group);
            var triggerKey = new TriggerKey(entry.Name, Group);
            if (!entry.IsValid || entry.Definition!.Schedule is not { } schedule)
            {
                if (await scheduler.DeleteJob(jobKey, cancellationToken))
                {
                    LogRemoved(entry.Name);
                }

                continue;
            }

            var expression = schedule.ToQuartzExpression();
            if (await scheduler.GetTrigger(triggerKey, cancellationToken) is ICronTrigger existing && existing.CronExpressionString == expression)
            {
                continue;
            }

            var job = JobBuilder.Create<ScheduledRunJob>().WithIdentity(jobKey).Build();
            var trigger = TriggerBuilder.Create()
                .WithIdentity(triggerKey)
                .ForJob(jobKey)
                .WithSchedule(CronScheduleBuilder.Create(expression).InTimeZone(TimeZoneInfo.Utc))
                .Build();
            await scheduler.ScheduleJob(job, [trigger], new ScheduleJobOptions { Replace = true }, cancellationToken);
            LogScheduled(entry.Name, schedule.Expression);
        }

        // A runbook removed from the source takes its schedule with it.
        foreach (var jobKey in await scheduler.GetJobKeys(GroupMatcher<JobKey>.GroupEquals(Group), cancellationToken))
        {
            if (catalog.Find(jobKey.Name) is null && await scheduler.DeleteJob(jobKey, cancellationToken))
            {
                LogRemoved(jobKey.Name);
            }
        }
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Runbook {Runbook} scheduled: {Schedule} (UTC)")]
    private partial void LogScheduled(string runbook, string schedule);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Runbook {Runbook} no longer has a schedule; its trigger was removed")]
    private partial void LogRemoved(string runbook);
}
