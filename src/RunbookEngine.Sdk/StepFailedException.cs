namespace RunbookEngine.Sdk;

/// <summary>Thrown out of <c>Step(...)</c> when the step failed or timed out on its last attempt; failing the run unless the script catches it.</summary>
public sealed class StepFailedException : RunbookFailedException
{
    /// <summary>Creates the exception for a step that ended badly.</summary>
    /// <param name="outcome">The step's journal entry.</param>
    /// <param name="innerException">What the step's last attempt threw, if anything.</param>
    public StepFailedException(StepOutcome outcome, Exception? innerException)
        : base(Describe(outcome), innerException ?? new InvalidOperationException(outcome.Error))
    {
        Outcome = outcome;
    }

    /// <summary>The failed step's journal entry.</summary>
    public StepOutcome Outcome { get; }

    private static string Describe(StepOutcome outcome)
    {
        var what = outcome.Status == StepStatus.TimedOut ? "timed out" : "failed";
        var attempts = outcome.Attempts == 1 ? "" : $" after {outcome.Attempts} attempts";
        return $"step '{outcome.Name}' {what}{attempts}: {outcome.Error}";
    }
}
