using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>The step journal of one run, written to the run store before and after every step.</summary>
internal sealed class StoreJournal(IRunStore store, string runId, string runbook, Toil.EngineMetrics metrics) : IStepJournal
{
    public async ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) =>
        await store.FindStepAsync(runId, sequence, cancellationToken);

    public async ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken) =>
        await store.SaveStepAsync(runId, outcome, cancellationToken);

    public async ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        await store.SaveStepAsync(runId, outcome, cancellationToken);
        metrics.StepEnded(runbook, outcome);
    }
}
