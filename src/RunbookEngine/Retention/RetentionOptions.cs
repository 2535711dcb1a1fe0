namespace RunbookEngine.Retention;

/// <summary>How long run history is kept, section <c>RunbookEngine:Retention</c>.</summary>
public sealed class RetentionOptions
{
    /// <summary>Runs, steps, alerts and outputs older than this are deleted. Default 90 days.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(90);
}
