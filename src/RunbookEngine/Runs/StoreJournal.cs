using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>
/// The step journal of one run, written to the run store before and after every step. A write the store cannot take
/// because it is away waits for it to come back (<see cref="StoreRetry"/>): the step's code has already run, and
/// failing the run for a lost journal entry would make a resume repeat it or ask a person about it.
/// </summary>
/// <param name="store">The run store.</param>
/// <param name="retry">Waits for the store when it is away.</param>
/// <param name="runId">The run.</param>
/// <param name="runbook">The run's runbook, for metrics.</param>
/// <param name="metrics">Counts the steps that ended.</param>
/// <param name="stopping">Ends the wait for the store (the host's shutdown grace is over); the run is then left as a
/// crash would leave it, and its recovery resumes it from what the journal holds.</param>
/// <param name="claim">The execution's claim on the run: a write it no longer holds is refused, and the execution stops.</param>
internal sealed class StoreJournal(IRunStore store, StoreRetry retry, string runId, string runbook, Toil.EngineMetrics metrics, CancellationToken stopping, Scheduling.RunClaim? claim = null) : IStepJournal
{
    public async ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) =>
        // The run's own token bounds this wait: it carries the run's timeout and the shutdown interrupt.
        await retry.RunAsync($"the journal of run {runId} (step {sequence})", _ => store.FindStepAsync(runId, sequence, cancellationToken), cancellationToken);

    // The SDK passes CancellationToken.None to these two so a cancelled run still records how its steps ended; only
    // the host going away ends the wait.
    public async ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await SaveAsync($"step {outcome.Sequence} of run {runId} starting", outcome);
    }

    public async ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        await SaveAsync($"step {outcome.Sequence} of run {runId} ending {outcome.Status}", outcome);
        metrics.StepEnded(runbook, outcome);
    }

    private async Task SaveAsync(string what, StepOutcome outcome)
    {
        if (claim?.Lost == true || !await retry.RunAsync(what, ct => store.SaveStepAsync(runId, outcome, claim?.Token, ct), stopping))
        {
            // Another node took the run over while this one was taken for dead. The "before" write of a step is
            // refused too, so this execution starts nothing more; it stops here and writes nothing else.
            claim?.MarkLost();
            throw new RunClaimLostException(runId);
        }
    }
}

/// <summary>The execution no longer holds its run: another node took it over.</summary>
internal sealed class RunClaimLostException(string runId) : Exception($"run {runId} was taken over by another node's execution")
{
}
