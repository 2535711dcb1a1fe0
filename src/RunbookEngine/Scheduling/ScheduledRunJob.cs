using System.Globalization;
using Microsoft.Extensions.Logging;
using Quartz;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scheduling;

/// <summary>Fired by a runbook's cron trigger: records and dispatches a run like any other, triggered by the schedule.</summary>
internal sealed partial class ScheduledRunJob(RunService runs, ILogger<ScheduledRunJob> logger) : IJob
{
    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var runbook = context.JobDetail.Key.Name;
        var occurrence = context.ScheduledFireTimeUtc?.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture) ?? "now";
        var result = await runs.TriggerAsync(runbook, new Dictionary<string, string>(), RunTrigger.Schedule, $"schedule@{occurrence}", null, cancellationToken);
        if (result.Run is null)
        {
            LogNotStarted(runbook, occurrence, string.Join("; ", result.Errors.DefaultIfEmpty(result.Problem.ToString())));
        }
    }

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Scheduled run of {Runbook} at {Occurrence} did not start: {Reason}")]
    private partial void LogNotStarted(string runbook, string occurrence, string reason);
}
