using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Execution;

/// <summary>How one execution of a run ended.</summary>
/// <param name="Status">
/// The terminal status, <see cref="RunStatus.WaitingForHuman"/>, or <see cref="RunStatus.Queued"/> when the host
/// interrupted the run to shut down and it should resume elsewhere.
/// </param>
/// <param name="Error">Why it did not succeed, redacted, with the script line when known.</param>
/// <param name="Steps">The steps it reached, in order.</param>
/// <param name="StartedAt">When the script started.</param>
/// <param name="FinishedAt">When it ended.</param>
/// <param name="Proposal">What a shadow run would have done, when it ended <see cref="RunStatus.Proposed"/>.</param>
public sealed record RunResult(RunStatus Status, string? Error, IReadOnlyList<StepOutcome> Steps, DateTimeOffset StartedAt, DateTimeOffset FinishedAt, RunProposal? Proposal = null)
{
    /// <summary>How long the execution took.</summary>
    public TimeSpan Duration => FinishedAt - StartedAt;
}
