namespace RunbookEngine.Scheduling;

/// <summary>
/// What the run lifecycle needs from a scheduler: something that fires a run's execution on some node, now or at a
/// time, and can take it back. It carries nothing but the run id; the run itself lives in the run store.
/// </summary>
/// <remarks>
/// The lifecycle (<see cref="Runs.RunService"/>, <see cref="Runs.HumanSteps"/>, and <c>Runs.RunLifecycle</c>, which
/// executes an attempt) talks to the scheduler only through this, so replacing the scheduler means writing one
/// implementation, not touching runs.
/// </remarks>
public interface IRunDispatcher
{
    /// <summary>Hands a recorded run to the scheduler to start now. Dispatching a run twice is harmless.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the scheduler holds the run.</returns>
    Task DispatchAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Gives a run whose attempt failed its next attempt at <paramref name="at"/> (after its backoff). Asking twice for
    /// the same attempt is harmless.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="attempt">The attempt to start.</param>
    /// <param name="at">When to start it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the scheduler holds the attempt.</returns>
    /// <exception cref="RunDispatchException">The scheduler refused it, as it may this late in a shutdown.</exception>
    Task DispatchAttemptAsync(string runId, int attempt, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Hands a run that shutdown cut short back to the scheduler, to start now on whichever node takes it.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="attempt">The attempt that resumes it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the scheduler holds the run.</returns>
    /// <exception cref="RunDispatchException">The scheduler refused it, as it may this late in a shutdown.</exception>
    Task ResumeAsync(string runId, int attempt, CancellationToken cancellationToken);

    /// <summary>
    /// Wakes a run that rests (waiting for a person, or left with nothing to fire it) at <paramref name="at"/>, or now
    /// when that is null or past. Waking twice is harmless: only a run that is due starts.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="at">When to wake it; now when null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the scheduler holds the wake-up.</returns>
    Task WakeAsync(string runId, DateTimeOffset? at, CancellationToken cancellationToken);

    /// <summary>Has a run whose concurrency key is busy look again after <paramref name="delay"/>.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="delay">How long to wait before looking again.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the scheduler holds the re-check.</returns>
    Task RecheckKeyAsync(string runId, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Asks this node to interrupt the run's execution, if it runs here.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when the interruption was requested.</returns>
    Task InterruptAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Removes whatever the scheduler still holds that would fire the run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task that completes when nothing is left to fire the run.</returns>
    /// <exception cref="RunDispatchException">The scheduler could not remove it.</exception>
    Task RemoveAsync(string runId, CancellationToken cancellationToken);
}
