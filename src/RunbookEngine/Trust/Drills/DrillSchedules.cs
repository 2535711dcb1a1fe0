using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;

namespace RunbookEngine.Trust.Drills;

/// <summary>
/// Keeps one Hangfire recurring job per runbook with a <c>drill:</c> block, id <c>drill:RUNBOOK</c>, in step with the
/// catalog: added, changed, removed with the block or the runbook. Called by the schedule sync, which owns the
/// connection to Hangfire's storage and leaves these ids alone.
/// </summary>
internal sealed partial class DrillSchedules(RunbookCatalog catalog, ILogger<DrillSchedules> logger)
{
    /// <summary>The prefix of drill recurring job ids.</summary>
    public const string Prefix = "drill:";

    /// <summary>The recurring job id of a runbook's drill.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <returns>The id.</returns>
    public static string JobId(string runbook) => Prefix + runbook;

    /// <summary>Brings the drill jobs in line with the catalog.</summary>
    /// <param name="existing">Every recurring job now, by id.</param>
    /// <param name="manager">Writes recurring jobs.</param>
    /// <param name="cancellationToken">Cancels the sync.</param>
    public void Sync(IReadOnlyDictionary<string, RecurringJobDto> existing, IRecurringJobManager manager, CancellationToken cancellationToken)
    {
        var wanted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in catalog.Entries)
        {
            cancellationToken.ThrowIfCancellationRequested();

            // Kept while the runbook does not compile: finding that out is what the drill is for.
            if (entry.Definition?.Drill is not { } drill)
            {
                continue;
            }

            var id = JobId(entry.Name);
            wanted.Add(id);
            var cron = drill.Schedule.ToCronosExpression();
            if (existing.TryGetValue(id, out var job) && job.Cron == cron && job.Job?.Type == typeof(DrillJob))
            {
                continue;
            }

            var runbook = entry.Name;
            manager.AddOrUpdate<DrillJob>(id, j => j.FireAsync(runbook, null), cron, new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            LogScheduled(runbook, drill.Schedule.Expression);
        }

        foreach (var id in existing.Keys.Where(id => id.StartsWith(Prefix, StringComparison.Ordinal) && !wanted.Contains(id)))
        {
            manager.RemoveIfExists(id);
            LogRemoved(id[Prefix.Length..]);
        }
    }

    [LoggerMessage(EventId = 1504, Level = LogLevel.Information, Message = "Runbook {Runbook} drilled on {Schedule} (UTC)")]
    private partial void LogScheduled(string runbook, string schedule);

    [LoggerMessage(EventId = 1505, Level = LogLevel.Information, Message = "Runbook {Runbook} no longer has a drill; its recurring job was removed")]
    private partial void LogRemoved(string runbook);
}
