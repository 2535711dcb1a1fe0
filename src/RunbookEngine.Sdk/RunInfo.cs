namespace RunbookEngine.Sdk;

/// <summary>Facts about the current run.</summary>
/// <param name="Id">The run's id.</param>
/// <param name="Runbook">The runbook's name.</param>
/// <param name="Attempt">1 for the first execution; higher when the run is retried or resumed after a crash.</param>
/// <param name="Trigger">What started the run.</param>
/// <param name="TriggeredBy">Who or what started it: a user name, an alert fingerprint, a schedule.</param>
/// <param name="Commit">The Git commit of the runbook source, when it lives in Git.</param>
/// <param name="ContentHash">The SHA-256 of the runbook's source closure (the file and every <c>#load</c>ed helper).</param>
/// <param name="DryRun">True when side effects are reported instead of performed.</param>
/// <param name="Mode">How far the run may act on its own (<c>mode:</c>); a drill always runs in shadow mode.</param>
public sealed record RunInfo(
    string Id,
    string Runbook,
    int Attempt,
    RunTrigger Trigger,
    string TriggeredBy,
    string? Commit,
    string ContentHash,
    bool DryRun,
    RunMode Mode = RunMode.Auto);

/// <summary>What started a run.</summary>
public enum RunTrigger
{
    /// <summary>A person, through the CLI, API or dashboard.</summary>
    Manual,

    /// <summary>An alert webhook matched the runbook.</summary>
    Alert,

    /// <summary>The runbook's cron schedule.</summary>
    Schedule,

    /// <summary>A retry of an earlier run.</summary>
    Retry,

    /// <summary>The runbook's <c>drill:</c> schedule: a shadow run against a test case's alert, to prove it still works.</summary>
    Drill,
}
