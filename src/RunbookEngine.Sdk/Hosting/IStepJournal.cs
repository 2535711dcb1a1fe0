namespace RunbookEngine.Sdk.Hosting;

/// <summary>
/// Where a run's steps are recorded, before and after each runs. On a resumed run it also answers what an earlier
/// execution recorded, so completed steps are not run twice.
/// </summary>
public interface IStepJournal
{
    /// <summary>The entry an earlier execution of this run recorded at <paramref name="sequence"/>, or null.</summary>
    /// <param name="sequence">The step's position in the run.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The recorded entry, or null for a step never started.</returns>
    ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken);

    /// <summary>Records that a step is starting (status <see cref="StepStatus.Running"/> or <see cref="StepStatus.WaitingForHuman"/>).</summary>
    /// <param name="outcome">The entry so far.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the entry is durable.</returns>
    ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Records how a step ended.</summary>
    /// <param name="outcome">The final entry.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the entry is durable.</returns>
    ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken);
}
