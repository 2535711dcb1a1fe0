using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// The run's journal, in memory, which also knows the step running now, so an unstubbed request can say where it was
/// made (steps do not nest, so the latest started and not finished is the one).
/// </summary>
internal sealed class CaseJournal : IStepJournal
{
    private readonly InMemoryStepJournal _inner = new();
    private readonly List<StepOutcome> _running = [];

    public string? Current
    {
        get
        {
            lock (_running)
            {
                return _running.Count == 0 ? null : _running[^1].Name;
            }
        }
    }

    public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) => _inner.FindAsync(sequence, cancellationToken);

    public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        lock (_running)
        {
            _running.Add(outcome);
        }

        return _inner.StepStartedAsync(outcome, cancellationToken);
    }

    public ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        lock (_running)
        {
            _running.RemoveAll(step => step.Sequence == outcome.Sequence);
        }

        return _inner.StepFinishedAsync(outcome, cancellationToken);
    }
}
