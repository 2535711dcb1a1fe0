using RunbookEngine.Alerts;

namespace RunbookEngine.Trust.GameDays;

/// <summary>
/// One game day as the store keeps it: a fault injected on purpose, the alert the monitoring raised for it, the run
/// that fixed it, the check that it is gone, and the clean-up.
/// </summary>
/// <param name="Id">Its id.</param>
/// <param name="Runbook">The runbook whose <c>gameday:</c> block it ran.</param>
/// <param name="StartedBy">Who started it.</param>
/// <param name="StartedAt">When it was recorded.</param>
/// <param name="InjectedAt">When <c>inject</c> started: the moment the fault begins, and alerts count from.</param>
/// <param name="AlertId">The alert that started the runbook's run.</param>
/// <param name="AlertAt">When the engine received that alert.</param>
/// <param name="RunId">The run that alert started.</param>
/// <param name="RemediatedAt">When that run succeeded.</param>
/// <param name="VerifiedAt">When <c>verify</c> first exited 0.</param>
/// <param name="RestoredAt">When <c>restore</c> finished, if it ran.</param>
/// <param name="FinishedAt">When the game day ended.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Phase">What it is doing, or was doing when it ended.</param>
/// <param name="Error">Why it failed, in words a person can act on.</param>
/// <param name="Log">What its commands printed and how they exited (bounded).</param>
/// <param name="Node">The node running it.</param>
public sealed record GameDayRecord(
    string Id,
    string Runbook,
    string StartedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? InjectedAt,
    string? AlertId,
    DateTimeOffset? AlertAt,
    string? RunId,
    DateTimeOffset? RemediatedAt,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset? RestoredAt,
    DateTimeOffset? FinishedAt,
    GameDayStatus Status,
    GameDayPhase Phase,
    string? Error,
    string Log,
    string Node)
{
    /// <summary>Time to detect: from the injection to the alert's arrival.</summary>
    public TimeSpan? TimeToDetect => AlertAt - InjectedAt;

    /// <summary>Time to remediate: from the alert's arrival to the run's success.</summary>
    public TimeSpan? TimeToRemediate => RemediatedAt - AlertAt;

    /// <summary>Time to recover: from the injection to <c>verify</c> passing.</summary>
    public TimeSpan? TimeToRecover => VerifiedAt - InjectedAt;
}

/// <summary>Where a game day stands.</summary>
public enum GameDayStatus
{
    /// <summary>In progress on its node.</summary>
    Running,

    /// <summary>The fault was detected, remediated and verified gone (and restored, if it has a restore).</summary>
    Succeeded,

    /// <summary>A phase failed or timed out; the error says which.</summary>
    Failed,
}

/// <summary>What a game day is doing (or was doing when it ended).</summary>
public enum GameDayPhase
{
    /// <summary>Running <c>inject</c>.</summary>
    Injecting,

    /// <summary>Waiting for an alert, received after the injection, to start a run of the runbook.</summary>
    WaitingForAlert,

    /// <summary>Waiting for that run to end.</summary>
    WaitingForRun,

    /// <summary>Running <c>verify</c> until it exits 0.</summary>
    Verifying,

    /// <summary>Running <c>restore</c>.</summary>
    Restoring,

    /// <summary>Ended.</summary>
    Done,
}

/// <summary>An alert, received after a time, that matched a runbook, and what was decided about it for that runbook.</summary>
/// <param name="AlertId">The alert.</param>
/// <param name="AlertName">Its name.</param>
/// <param name="ReceivedAt">When the engine received it.</param>
/// <param name="Decision">Whether it started a run, or which guard stopped it.</param>
/// <param name="RunId">The run it started, if any.</param>
/// <param name="Reason">Why, in words.</param>
public sealed record GameDayAlert(string AlertId, string AlertName, DateTimeOffset ReceivedAt, AlertDecisionKind Decision, string? RunId, string? Reason);
