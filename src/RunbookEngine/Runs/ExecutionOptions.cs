namespace RunbookEngine.Runs;

/// <summary>How runs are executed, section <c>RunbookEngine:Execution</c>.</summary>
public sealed class ExecutionOptions
{
    /// <summary>
    /// For runbooks with <c>isolation: process</c>: the most managed memory (MiB) the run's process may use
    /// (<c>DOTNET_GCHeapHardLimit</c>); past it the run fails with an out-of-memory error. Default 1024.
    /// </summary>
    public int ProcessMemoryLimitMiB { get; set; } = 1024;

    /// <summary>
    /// For runbooks with <c>isolation: process</c>: after the run's timeout, a cancel or the shutdown grace, how long
    /// the run's process gets to record how its steps ended before its whole process tree is killed. Default 10s.
    /// </summary>
    public TimeSpan ProcessKillGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The most characters of log lines one run writes into the host's log; later lines are dropped from the host
    /// log (the steps' output still keeps their head and tail). Default 1,048,576.
    /// </summary>
    public long MaxLogCharactersPerRun { get; set; } = 1024 * 1024;
}
