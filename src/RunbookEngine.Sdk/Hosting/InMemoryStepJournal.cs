using System.Collections.Concurrent;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>A journal that lives as long as the run: for local runs and tests. Nothing survives the process.</summary>
public sealed class InMemoryStepJournal : IStepJournal
{
    private readonly ConcurrentDictionary<int, StepOutcome> _entries = new();

    /// <summary>Every entry, in step order.</summary>
    public IReadOnlyList<StepOutcome> Entries => [.. _entries.Values.OrderBy(entry => entry.Sequence)];

    /// <inheritdoc />
    public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_entries.TryGetValue(sequence, out var entry) ? entry : null);

    /// <inheritdoc />
    public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        _entries[outcome.Sequence] = outcome;
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    public ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        _entries[outcome.Sequence] = outcome;
        return ValueTask.CompletedTask;
    }
}
