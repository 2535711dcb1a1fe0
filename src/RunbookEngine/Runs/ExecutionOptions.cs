namespace RunbookEngine.Runs;

/// <summary>How runs are executed, section <c>RunbookEngine:Execution</c>.</summary>
public sealed class ExecutionOptions
{
}
