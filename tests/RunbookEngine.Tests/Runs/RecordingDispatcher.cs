using RunbookEngine.Scheduling;

namespace RunbookEngine.Tests.Runs;

/// <summary>A dispatcher that only remembers what it was asked, in order, so a test can see what the lifecycle did.</summary>
internal sealed class RecordingDispatcher : IRunDispatcher
{
    private readonly List<string> _calls = [];

    /// <summary>Each request as "Operation runId", in the order made.</summary>
    public IReadOnlyList<string> Calls
    {
        get
        {
            lock (_calls)
            {
                return [.. _calls];
            }
        }
    }

    /// <summary>Runs when a run is dispatched, to look at the store at that moment.</summary>
    public Func<string, Task>? OnDispatch { get; set; }

    /// <summary>What <see cref="RemoveAsync"/> throws, as a scheduler that cannot tidy up would.</summary>
    public Exception? RemoveFails { get; set; }

    public async Task DispatchAsync(string runId, CancellationToken cancellationToken)
    {
        Add($"Dispatch {runId}");
        if (OnDispatch is { } onDispatch)
        {
            await onDispatch(runId);
        }
    }

    /// <summary>What <see cref="DispatchAttemptAsync"/> throws, as a scheduler refusing triggers late in a shutdown would.</summary>
    public Exception? DispatchAttemptFails { get; set; }

    public Task DispatchAttemptAsync(string runId, int attempt, DateTimeOffset at, CancellationToken cancellationToken)
    {
        Add($"DispatchAttempt {runId} {attempt} {at:O}");
        return DispatchAttemptFails is { } failure ? Task.FromException(failure) : Task.CompletedTask;
    }

    public Task ResumeAsync(string runId, int attempt, CancellationToken cancellationToken) => Record($"Resume {runId} {attempt}");

    public Task WakeAsync(string runId, DateTimeOffset? at, CancellationToken cancellationToken) => Record($"Wake {runId}{(at is { } due ? $" {due:O}" : "")}");

    public Task RecheckKeyAsync(string runId, TimeSpan delay, CancellationToken cancellationToken) => Record($"RecheckKey {runId} {delay}");

    public Task InterruptAsync(string runId, CancellationToken cancellationToken) => Record($"Interrupt {runId}");

    public Task RemoveAsync(string runId, CancellationToken cancellationToken)
    {
        Add($"Remove {runId}");
        return RemoveFails is { } failure ? Task.FromException(failure) : Task.CompletedTask;
    }

    private Task Record(string call)
    {
        Add(call);
        return Task.CompletedTask;
    }

    private void Add(string call)
    {
        lock (_calls)
        {
            _calls.Add(call);
        }
    }
}
