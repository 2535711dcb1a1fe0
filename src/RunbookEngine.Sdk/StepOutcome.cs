namespace RunbookEngine.Sdk;

/// <summary>
/// The journal entry of one step: what ran, when, how often, with what result. The run store persists this record as it is.
/// </summary>
/// <param name="Sequence">1-based position of the step in the run; replay after a crash matches on it.</param>
/// <param name="Name">The name the runbook gave the step.</param>
/// <param name="Kind">Whether a machine or a person did the work.</param>
/// <param name="Status">Where the step stands.</param>
/// <param name="StartedAt">When the step started (for a human step: when the person was asked).</param>
/// <param name="FinishedAt">When the step ended; null while it runs.</param>
/// <param name="Attempts">How many times the step's code was started.</param>
/// <param name="Output">Captured log lines and command output, redacted and capped at <see cref="MaxOutputLength"/> characters.</param>
/// <param name="Error">Why the step failed, redacted; null when it did not.</param>
/// <param name="Actor">Who did it: <c>runbook</c> for automated steps, the person's name for human steps.</param>
/// <param name="ResultJson">The step's return value as JSON, so a resumed run can reuse it without running the step again.</param>
/// <param name="Idempotent">Whether the step may run again after a crash interrupted it.</param>
/// <param name="PickedUpAt">For a human step: when a person took it on, when known.</param>
/// <param name="ManualMinutes">What the step would cost a person by hand, as declared by the runbook.</param>
/// <param name="Comment">For a human step: what the person wrote when answering.</param>
/// <param name="Role">For a human step: the role the person who answers must hold, if any.</param>
/// <param name="DifferentPerson">For a human step: whether the one who started the run may not answer it.</param>
/// <param name="DueAt">For a human step: when the wait times out, if it does.</param>
public sealed record StepOutcome(
    int Sequence,
    string Name,
    StepKind Kind,
    StepStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int Attempts,
    string Output,
    string? Error,
    string Actor,
    string? ResultJson = null,
    bool Idempotent = false,
    DateTimeOffset? PickedUpAt = null,
    double? ManualMinutes = null,
    string? Comment = null,
    string? Role = null,
    bool DifferentPerson = false,
    DateTimeOffset? DueAt = null)
{
    /// <summary>The most characters of output a step keeps: the first and last halves survive, the middle is cut with a marker.</summary>
    public const int MaxOutputLength = 64 * 1024;

    /// <summary>The actor recorded for steps the runbook's code performs.</summary>
    public const string MachineActor = "runbook";

    /// <summary>How long the step took; null while it runs.</summary>
    public TimeSpan? Duration => FinishedAt - StartedAt;

    /// <summary>Whether the step has ended, well or badly.</summary>
    public bool IsFinished => Status is not (StepStatus.Running or StepStatus.WaitingForHuman);
}
