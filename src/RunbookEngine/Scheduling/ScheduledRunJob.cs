using System.Globalization;
using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Fired by a runbook's recurring job, once per occurrence across the cluster (Hangfire's recurring job scheduler
/// creates each occurrence's job under a lock), or by "Trigger now" on the dashboard: records and dispatches a run
/// like any other, triggered by the schedule.
/// </summary>
public sealed partial class ScheduledRunJob
{
    private readonly RunService _runs;
    private readonly ILogger<ScheduledRunJob> _logger;

    internal ScheduledRunJob(RunService runs, ILogger<ScheduledRunJob> logger)
    {
        _runs = runs;
        _logger = logger;
    }

    /// <summary>Starts the runbook's scheduled run.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="context">Hangfire's context (null when enqueued; Hangfire fills it in).</param>
    /// <returns>A task that completes when the run is recorded and dispatched.</returns>
    // A schedule's occurrence that failed to start is not tried again: the next occurrence is the schedule's retry.
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("schedule of {0}")]
    public async Task FireAsync(string runbook, PerformContext? context)
    {
        // Hangfire stamps each occurrence's job with the occurrence it stands for ("Time", in Unix seconds).
        var time = context?.GetJobParameter<long?>("Time", allowStale: true);
        var occurrence = time is { } seconds
            ? DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture)
            : "now";
        var result = await _runs.TriggerAsync(runbook, new Dictionary<string, string>(), RunTrigger.Schedule, $"schedule@{occurrence}", null, CancellationToken.None);
        if (result.Run is null)
        {
            LogNotStarted(runbook, occurrence, string.Join("; ", result.Errors.DefaultIfEmpty(result.Problem.ToString())));
        }
    }

    [LoggerMessage(EventId = 702, Level = LogLevel.Warning, Message = "Scheduled run of {Runbook} at {Occurrence} did not start: {Reason}")]
    private partial void LogNotStarted(string runbook, string occurrence, string reason);
}
