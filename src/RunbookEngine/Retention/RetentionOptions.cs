namespace RunbookEngine.Retention;

/// <summary>How long run history is kept, section <c>RunbookEngine:Retention</c>.</summary>
public sealed class RetentionOptions
{
    /// <summary>
    /// Runs, steps (with their output), alerts and webhook payloads older than this are deleted; their toil figures
    /// are kept. Default 90 days; 0 turns retention off and keeps everything.
    /// </summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How often a node looks for history to delete. Default 1 hour.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// At most this many runs (with their steps), alerts or deliveries per transaction, so writers never wait on a long
    /// delete. Default 1000.
    /// </summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>A pause between batches, leaving the database to the runs. Default 100 ms.</summary>
    public TimeSpan Pause { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Whether retention deletes anything.</summary>
    public bool Enabled => MaxAge > TimeSpan.Zero;
}
