namespace RunbookEngine.Sdk;

/// <summary>How far a run may act on its own: the front matter's <c>mode:</c>.</summary>
public enum RunMode
{
    /// <summary>Everything runs: today's behaviour and the default.</summary>
    Auto,

    /// <summary>Read-only steps and commands run; the first thing that would change something is proposed, not done.</summary>
    Shadow,

    /// <summary>Runs until the first side effect, then waits for a person's approval and goes on once approved.</summary>
    Confirm,
}
