namespace RunbookEngine.Storage;

/// <summary>
/// Deleting run history past its age, a bounded batch per call, each batch one short transaction. The toil reports
/// keep what they need of what is deleted (<see cref="IToilStore"/> reads it back).
/// </summary>
public interface IRetentionStore
{
    /// <summary>
    /// Takes the cluster-wide retention lock if no other node holds it, so one node deletes at a time.
    /// </summary>
    /// <param name="cancellationToken">Cancels the attempt.</param>
    /// <returns>The lock, released on disposal; null when another node holds it.</returns>
    Task<IAsyncDisposable?> TryLockRetentionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> ended runs (Succeeded, Failed, Cancelled, TimedOut) that ended before
    /// <paramref name="before"/> and whose alert, if any, was received before it too, with their steps (and outputs),
    /// after keeping each run's toil summary. Runs in flight are never touched.
    /// </summary>
    /// <param name="before">Runs that ended (or, if they never started, were queued) before this go.</param>
    /// <param name="batchSize">At most this many runs.</param>
    /// <param name="cancellationToken">Cancels the batch; nothing of it is kept.</param>
    /// <returns>The runs and steps deleted; fewer runs than <paramref name="batchSize"/> means none are left.</returns>
    Task<(int Runs, int Steps)> DeleteExpiredRunsAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> alerts received before <paramref name="before"/> that no remaining run
    /// refers to, with their decisions and dedup keys, after counting the unautomated ones per UTC day.
    /// </summary>
    /// <param name="before">Alerts received before this go.</param>
    /// <param name="batchSize">At most this many alerts.</param>
    /// <param name="cancellationToken">Cancels the batch; nothing of it is kept.</param>
    /// <returns>The alerts deleted; fewer than <paramref name="batchSize"/> means none are left.</returns>
    Task<int> DeleteExpiredAlertsAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> webhook deliveries (the payloads as received) received before
    /// <paramref name="before"/> that no remaining alert came from.
    /// </summary>
    /// <param name="before">Deliveries received before this go.</param>
    /// <param name="batchSize">At most this many deliveries.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
    /// <returns>The deliveries deleted; fewer than <paramref name="batchSize"/> means none are left.</returns>
    Task<int> DeleteExpiredDeliveriesAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets up to <paramref name="batchSize"/> GitHub delivery ids (<see cref="IVersionStore.RememberGitHubDeliveryAsync"/>)
    /// received before <paramref name="before"/>.
    /// </summary>
    /// <param name="before">Ids received before this go.</param>
    /// <param name="batchSize">At most this many.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
    /// <returns>The ids forgotten; fewer than <paramref name="batchSize"/> means none are left.</returns>
    Task<int> DeleteExpiredGitHubDeliveriesAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets up to <paramref name="batchSize"/> claims on GitHub checks (<see cref="IVersionStore.ClaimGitHubCheckAsync"/>)
    /// made before <paramref name="before"/>.
    /// </summary>
    /// <param name="before">Claims made before this go.</param>
    /// <param name="batchSize">At most this many.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
    /// <returns>The claims forgotten; fewer than <paramref name="batchSize"/> means none are left.</returns>
    Task<int> DeleteExpiredGitHubChecksAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);

    /// <summary>
    /// Forgets up to <paramref name="batchSize"/> notifications that were delivered or given up on before
    /// <paramref name="before"/>, and the chat message references of runs already deleted.
    /// </summary>
    /// <param name="before">Notifications created before this go.</param>
    /// <param name="batchSize">At most this many.</param>
    /// <param name="cancellationToken">Cancels the batch.</param>
    /// <returns>The notifications forgotten; fewer than <paramref name="batchSize"/> means none are left.</returns>
    Task<int> DeleteExpiredNotificationsAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken);
}
