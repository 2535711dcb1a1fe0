namespace RunbookEngine.Scripting.Execution;

/// <summary>Where a run stands. Queued and Running are transient; the rest say how it ended or what it waits for.</summary>
public enum RunStatus
{
    /// <summary>Recorded, not started.</summary>
    Queued,

    /// <summary>The script is executing.</summary>
    Running,

    /// <summary>Paused until a person acts: a manual step, an approval, or a step interrupted by a crash.</summary>
    WaitingForHuman,

    /// <summary>The script finished without error.</summary>
    Succeeded,

    /// <summary>The script or a step failed, or a person rejected a step.</summary>
    Failed,

    /// <summary>Someone cancelled it.</summary>
    Cancelled,

    /// <summary>It ran past the runbook's timeout.</summary>
    TimedOut,

    /// <summary>A shadow run stopped before its first side effect and recorded what it would have done.</summary>
    Proposed,
}
