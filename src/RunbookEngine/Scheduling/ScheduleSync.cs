using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Keeps one Hangfire recurring job per runbook that has a <c>schedule:</c>, in step with the catalog: added, changed,
/// removed. The recurring job's id is the runbook's name, so every node writing the same schedule changes nothing,
/// and Hangfire's recurring job scheduler creates each occurrence once for the whole cluster.
/// </summary>
internal sealed partial class ScheduleSync(Func<JobStorage> storage, Func<IRecurringJobManager> recurring, RunbookCatalog catalog, Trust.Drills.DrillSchedules drills, ILogger<ScheduleSync> logger)
{
    public Task SyncAsync(CancellationToken cancellationToken)
    {
        using var connection = storage().GetConnection();
        var existing = connection.GetRecurringJobs().ToDictionary(job => job.Id, StringComparer.Ordinal);
        var manager = recurring();
        foreach (var entry in catalog.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!entry.IsValid || entry.Definition!.Schedule is not { } schedule)
            {
                if (existing.ContainsKey(entry.Name))
                {
                    manager.RemoveIfExists(entry.Name);
                    LogRemoved(entry.Name);
                }

                continue;
            }

            // The expression Cronos validated for the front matter, so the schedule fires exactly as the API, the
            // dashboard and the CLI say it next will.
            var cron = schedule.ToCronosExpression();
            if (existing.TryGetValue(entry.Name, out var job) && job.Cron == cron && job.Job?.Type == typeof(ScheduledRunJob))
            {
                continue;
            }

            var runbook = entry.Name;
            manager.AddOrUpdate<ScheduledRunJob>(runbook, j => j.FireAsync(runbook, null), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            LogScheduled(entry.Name, schedule.Expression);
        }

        // A runbook removed from the source takes its schedule with it. Drills keep their own jobs (drill:RUNBOOK).
        foreach (var id in existing.Keys)
        {
            if (!id.StartsWith(Trust.Drills.DrillSchedules.Prefix, StringComparison.Ordinal) && catalog.Find(id) is null)
            {
                manager.RemoveIfExists(id);
                LogRemoved(id);
            }
        }

        drills.Sync(existing, manager, cancellationToken);
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 700, Level = LogLevel.Information, Message = "Runbook {Runbook} scheduled: {Schedule} (UTC)")]
    private partial void LogScheduled(string runbook, string schedule);

    [LoggerMessage(EventId = 701, Level = LogLevel.Information, Message = "Runbook {Runbook} no longer has a schedule; its recurring job was removed")]
    private partial void LogRemoved(string runbook);
}
