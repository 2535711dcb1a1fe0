using Hangfire;
using Hangfire.Server;
using Microsoft.Extensions.Logging;

namespace RunbookEngine.Trust.Drills;

/// <summary>
/// Fired by a runbook's drill recurring job (<c>drill:RUNBOOK</c>), once per occurrence across the cluster: records and
/// dispatches the drill's run. Whatever goes wrong is caught and logged here: a drill's outcome is its run in the store,
/// never a failed Hangfire job nobody reads.
/// </summary>
public sealed partial class DrillJob
{
    private readonly DrillRunner _drills;
    private readonly ILogger<DrillJob> _logger;

    internal DrillJob(DrillRunner drills, ILogger<DrillJob> logger)
    {
        _drills = drills;
        _logger = logger;
    }

    /// <summary>Starts the runbook's drill.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="context">Hangfire's context (null when enqueued; Hangfire fills it in).</param>
    /// <returns>A task that completes when the drill's run is recorded (and dispatched, when it can run).</returns>
    // The next occurrence is a drill's retry, as for schedules.
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("drill of {0}")]
    public async Task FireAsync(string runbook, PerformContext? context)
    {
        try
        {
            var result = await _drills.StartAsync(runbook, DrillRunner.TriggeredBy, context?.CancellationToken.ShutdownToken ?? CancellationToken.None);
            if (result.Run is null)
            {
                LogNotStarted(runbook, result.Error ?? result.Problem.ToString());
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFailed(ex, runbook);
        }
    }

    [LoggerMessage(EventId = 1502, Level = LogLevel.Warning, Message = "Drill of {Runbook} did not start: {Reason}")]
    private partial void LogNotStarted(string runbook, string reason);

    [LoggerMessage(EventId = 1503, Level = LogLevel.Error, Message = "Drill of {Runbook} could not be recorded; the next occurrence tries again")]
    private partial void LogFailed(Exception exception, string runbook);
}
