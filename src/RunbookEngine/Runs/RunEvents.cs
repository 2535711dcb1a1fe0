using System.Collections.Concurrent;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>
/// Tells code in this process when a run ends, so tests and waiting callers await a state instead of polling on a
/// timer. A run that ended before anyone asked, or on another node, is found in the store.
/// </summary>
public sealed class RunEvents(IRunStore store)
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<RunStatus>> _waiters = new(StringComparer.Ordinal);

    /// <summary>Completes when the run has ended (or waits for a person).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The status it ended with.</returns>
    public async Task<RunStatus> WhenEndedAsync(string runId, CancellationToken cancellationToken)
    {
        var waiter = _waiters.GetOrAdd(runId, _ => new TaskCompletionSource<RunStatus>(TaskCreationOptions.RunContinuationsAsynchronously));
        while (true)
        {
            // Subscribed first, then read: an end between the two is seen by one or the other.
            var run = await store.GetRunAsync(runId, cancellationToken);
            if (run is null || run.IsTerminal || run.Status == RunStatus.WaitingForHuman)
            {
                _waiters.TryRemove(runId, out _);
                return run?.Status ?? RunStatus.Failed;
            }

            try
            {
                // A run executing on another node ends without an event here, so the store is read again each second.
                return await waiter.Task.WaitAsync(StoreRecheck, cancellationToken);
            }
            catch (TimeoutException)
            {
            }
        }
    }

    private static readonly TimeSpan StoreRecheck = TimeSpan.FromSeconds(1);

    internal void Ended(string runId, RunStatus status)
    {
        if (_waiters.TryRemove(runId, out var waiter))
        {
            waiter.TrySetResult(status);
        }
    }
}
