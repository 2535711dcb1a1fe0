using Hangfire;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Runs on Hangfire: every firing of a run (its first dispatch, a retry after its backoff, a wake-up, a resume after a
/// shutdown, the next in line for a concurrency key) is a Hangfire job whose one argument is the run id. Hangfire may
/// deliver a job twice, or sit on one; neither matters, because the run store decides: a delivery that finds the run
/// held by a live execution steps back, and the <see cref="RunWatchdog"/> dispatches again a run whose job was lost.
/// </summary>
internal sealed class HangfireRunDispatcher(Func<IBackgroundJobClient> jobs, IRunStore store, RunClaims claims, TimeProvider time) : IRunDispatcher
{
    public Task DispatchAsync(string runId, CancellationToken cancellationToken) => EnqueueAsync(runId, null);

    public Task DispatchAttemptAsync(string runId, int attempt, DateTimeOffset at, CancellationToken cancellationToken) => EnqueueAsync(runId, at);

    public Task ResumeAsync(string runId, int attempt, CancellationToken cancellationToken) => EnqueueAsync(runId, null);

    public Task WakeAsync(string runId, DateTimeOffset? at, CancellationToken cancellationToken) => EnqueueAsync(runId, at);

    public Task RecheckKeyAsync(string runId, TimeSpan delay, CancellationToken cancellationToken) =>
        EnqueueAsync(runId, delay > TimeSpan.Zero ? time.GetUtcNow() + delay : null);

    /// <summary>
    /// Cancels the run wherever it runs: at once when it runs on this node, and through the store (the running node's
    /// heartbeat reads it within a second) otherwise. Hangfire's own job deletion is not used: it reaches a running job
    /// only through a token checked every few seconds, and knows nothing of a run resting between two jobs.
    /// </summary>
    public async Task InterruptAsync(string runId, CancellationToken cancellationToken)
    {
        claims.Interrupt(runId);
        await store.RequestCancelAsync(runId, "a person", cancellationToken);
    }

    /// <summary>
    /// Nothing to remove: a job left for a run that ended finds it not startable and does nothing, and the run id is
    /// the only thing a job carries.
    /// </summary>
    public Task RemoveAsync(string runId, CancellationToken cancellationToken) => Task.CompletedTask;

    private Task EnqueueAsync(string runId, DateTimeOffset? at)
    {
        try
        {
            // Hangfire's client is synchronous; the write is one short transaction.
            var client = jobs();
            if (at is { } due && due > time.GetUtcNow())
            {
                client.Schedule<RunJob>(job => job.ExecuteAsync(runId, null), due);
            }
            else
            {
                client.Enqueue<RunJob>(job => job.ExecuteAsync(runId, null));
            }

            return Task.CompletedTask;
        }
        catch (BackgroundJobClientException ex)
        {
            // The storage failed under it: the caller's retry waits for the store, or leaves the run to the watchdog.
            return Task.FromException(ex.InnerException is { } inner && StoreRetry.IsUnavailable(inner) ? inner : new RunDispatchException(ex.Message, ex));
        }
    }
}
