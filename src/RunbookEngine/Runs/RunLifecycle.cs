using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;
using RunbookEngine.Toil;

namespace RunbookEngine.Runs;

/// <summary>
/// One attempt of a run, whatever scheduler fired it: claim the run in the store (or wait for its concurrency key),
/// prepare the attempt, execute it in process or in a process of its own, and decide whether the run rests for a
/// person, goes back to the queue after a shutdown, retries after its backoff or ends. A scheduler's job only says
/// which run and which execution this is, and hands in the dispatcher to write the run's next firing through.
/// </summary>
/// <remarks>
/// Everything else is read from the run store, so a node that recovers the execution after a crash has all it needs.
/// </remarks>
internal sealed partial class RunLifecycle(IRunStore store, IAlertStore alerts, RunbookCatalog catalog, IRunDispatcher dispatcher, EngineMetrics metrics, RunEvents events, NodeIdentity node, ShutdownDrain drain, TimeProvider time, ILogger<RunLifecycle> logger, StoreRetry retry, Execution.ProcessExecution processes, SecretParameters secrets, RunClaims? claims = null)
{
    private readonly RunClaims _claims = claims ?? new RunClaims();

    /// <summary>Executes one attempt of a run, from claiming it to its outcome (or its next firing).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="execution">Which firing of the run this is, and which execution it recovers after a crash.</param>
    /// <param name="here">
    /// Writes the run's own next firings (retry, resume after shutdown, key re-check) through the scheduler executing
    /// this attempt: should it refuse, the run is left to the watchdog. A person's deadline goes
    /// through the host's dispatcher instead, so it is written even then.
    /// </param>
    /// <param name="cancellationToken">A person's cancel (the scheduler's interrupt).</param>
    /// <returns>A task that completes when the attempt has ended, rests or was handed back.</returns>
    public async Task ExecuteAsync(string runId, RunExecution execution, IRunDispatcher here, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);

        // The scheduler delivers at least once: a second delivery of a run that a live execution holds steps back here.
        await using var hold = await store.HoldRunAsync(runId, cancellationToken);
        if (hold is null)
        {
            LogHeldElsewhere(runId);
            return;
        }

        var started = await store.StartRunAsync(runId, node.Id, execution, cancellationToken);
        if (started.BlockedBy is { } holder)
        {
            await WaitForKeyAsync(here, runId, holder, cancellationToken);
            return;
        }

        if (started.Run is not { } run)
        {
            LogNotStartable(runId);
            return;
        }

        using var claim = new RunClaim(run.Id, execution.Claim, cancellationToken);
        using var registration = _claims.Register(claim);
        if (run.CancelRequested is not null)
        {
            // Asked while the run was on its way back here (resting, or requeued by a shutdown).
            claim.Cancel();
        }

        using var activity = Telemetry.RunTracing.StartRun(run, started.TookOver);
        using var scope = Telemetry.RunLogScope.Begin(logger, run);
        try
        {
            await ExecuteStartedAsync(here, started.TookOver, run, claim, activity);
        }
        catch (Exception ex) when (claim.Lost)
        {
            LogClaimLost(run.Id, ex.Message);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !claim.Stopping.IsCancellationRequested)
        {
            // Whatever went wrong outside the runbook's code (the store, the catalog, the scheduler), the run must not
            // stay Running with no job behind it: it would hold its concurrency key for ever. Its journal shows how
            // far it got; a person can retry it.
            LogEngineFailure(ex, run.Id);
            var error = $"the engine failed while running it ({ex.GetType().Name}: {ex.Message}); its journal shows how far it got";
            Telemetry.RunTracing.Ended(activity, RunStatus.Failed, error);
            await EndAsync(run, claim, RunStatus.Failed, error, []);
        }
    }

    [LoggerMessage(EventId = 210, Level = LogLevel.Information, Message = "Run {RunId} is held by a live execution; this delivery steps back")]
    private partial void LogHeldElsewhere(string runId);

    [LoggerMessage(EventId = 211, Level = LogLevel.Error, Message = "Run {RunId} was taken over by another node; this execution stopped without writing more ({Reason})")]
    private partial void LogClaimLost(string runId, string reason);

    [LoggerMessage(EventId = 208, Level = LogLevel.Error, Message = "Run {RunId} failed in the engine, outside its runbook's code")]
    private partial void LogEngineFailure(Exception exception, string runId);

    private async Task ExecuteStartedAsync(IRunDispatcher here, bool recovering, RunRecord run, RunClaim claim, System.Diagnostics.Activity? activity)
    {
        var cancellationToken = claim.Stopping;
        using var attempt = await RunAttempt.PrepareAsync(run, catalog, alerts, secrets, retry, drain.Token, cancellationToken);
        if (attempt is not { Definition: { } definition, Compiled: { } compiled, Parameters: { } parameters, Alert: var alert })
        {
            Telemetry.RunTracing.Ended(activity, RunStatus.Failed, attempt.Error);
            await EndAsync(run, claim, RunStatus.Failed, attempt.Error, []);
            return;
        }

        LogStarting(run.Id, run.Runbook, run.Attempt, recovering);
        var mode = Trust.RunModes.For(definition, run.Trigger, run.BudgetGate);
        if (mode != RunMode.Auto && store is ITrustStore trust)
        {
            await retry.RunAsync($"the mode of run {run.Id}", ct => trust.SetModeAsync(run.Id, mode, claim.Token, ct), drain.Token);
        }

        // Read before the mode was written: the outcome's toil depends on it.
        run = run with { Mode = mode };

        var gate = new RestingHumanGate();
        var calls = new Trust.Testing.StoreCallRecorder(run.Id, run.Attempt, time);
        var request = new RunRequest
        {
            Runbook = compiled,
            Definition = definition,
            Run = new RunInfo(run.Id, run.Runbook, run.Attempt, run.Trigger, run.TriggeredBy, run.Commit, run.ContentHash, false, mode),
            Confirm = Trust.RunModes.ConfirmFor(definition, run.BudgetGate),
            Parameters = parameters,
            Alert = alert,
            Journal = new StoreJournal(store, retry, run.Id, run.Runbook, metrics, drain.Token, claim),
            LogSink = processes.Bounded(new LoggerSink(logger)),
            Time = time,
            InterruptToken = drain.Token,
            HumanGate = gate,
            HiddenFromCommands = Execution.ProcessExecution.IsHostCredential,
            Calls = calls,
        };

        // In process, code that ignores its token is only reported as timed out; in a process of its own it is killed.
        var (result, askedByChild) = definition.Isolation == Isolation.Process
            ? await processes.ExecuteAsync(request, cancellationToken, claim.Token)
            : (await RunbookExecutor.ExecuteAsync(request, cancellationToken), null);
        Telemetry.RunTracing.Ended(activity, result.Status, result.Error);
        if (claim.Lost)
        {
            LogClaimLost(run.Id, "its attempt ended " + result.Status);
            return;
        }

        await KeepCallsAsync(calls, run.Id, claim.Token);

        if (result.Status == RunStatus.WaitingForHuman && (gate.Asked ?? askedByChild) is { } asked)
        {
            await RestAsync(run.Id, claim, asked, cancellationToken);
            return;
        }

        if (result.Status == RunStatus.Queued)
        {
            await ResumeElsewhereAsync(here, run.Id, claim, run.Attempt, result.Error);
            return;
        }

        // A person's no (or nobody answering) is in the journal and would only be replayed: such a run is not retried.
        var refusedByPerson = result.Steps.Count > 0 && result.Steps[^1] is { Kind: not StepKind.Automated, Status: StepStatus.Failed or StepStatus.TimedOut };
        if (result.Status is RunStatus.Failed or RunStatus.TimedOut && run.Attempt <= definition.Retries && !refusedByPerson && !cancellationToken.IsCancellationRequested)
        {
            await RetryLaterAsync(here, run.Id, claim, run.Attempt, definition.RetryBackoff, result.Error, cancellationToken);
            return;
        }

        await EndAsync(run, claim, result.Status, result.Error, result.Steps, result.Proposal);
    }

    /// <summary>
    /// Writes what the attempt's commands and HTTP calls returned, for recording a test case from the run (a run in a
    /// process of its own writes its own). Losing them loses only that, so a failure is logged and the run goes on.
    /// </summary>
    private async Task KeepCallsAsync(Trust.Testing.StoreCallRecorder calls, string runId, string claim)
    {
        try
        {
            await calls.FlushAsync(store, claim, drain.Token);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            LogCallsLost(runId, ex.Message);
        }
    }

    [LoggerMessage(EventId = 230, Level = LogLevel.Warning, Message = "Run {RunId}: the results of its commands and HTTP calls were not kept, so no test case can be recorded from it ({Reason})")]
    private partial void LogCallsLost(string runId, string reason);

    /// <summary>
    /// The run rests, holding no thread, until a person answers (the API wakes it) or the wait times out (a job
    /// scheduled for the deadline wakes it; the watchdog does if that job is lost). An answer that came while the run was
    /// still on its way here wakes it at once.
    /// </summary>
    private async Task RestAsync(string runId, RunClaim claim, HumanRequest asked, CancellationToken cancellationToken)
    {
        var wakeAt = await retry.RunAsync($"run {runId} resting", ct => store.RestForHumanAsync(runId, asked.DueAt, claim.Token, ct), drain.Token);
        LogResting(runId, asked.Sequence, asked.Kind, asked.DueAt);
        events.Ended(runId, RunStatus.WaitingForHuman);
        if (wakeAt is { } at)
        {
            await retry.RunAsync($"the wake-up of run {runId}", _ => dispatcher.WakeAsync(runId, at, cancellationToken), drain.Token);
        }
    }

    [LoggerMessage(EventId = 207, Level = LogLevel.Information, Message = "Run {RunId} waits for a person at step {Sequence} ({Kind}; times out at {DueAt})")]
    private partial void LogResting(string runId, int sequence, StepKind kind, DateTimeOffset? dueAt);

    /// <summary>
    /// Another run holds this run's concurrency key: with <c>on_conflict: refuse</c> the run ends, otherwise it looks
    /// again in a second, keeping its place in line (the store lets runs start in the order they were queued).
    /// </summary>
    private async Task WaitForKeyAsync(IRunDispatcher here, string runId, string holder, CancellationToken cancellationToken)
    {
        var run = await store.GetRunAsync(runId, cancellationToken);
        using var scope = run is null ? null : Telemetry.RunLogScope.Begin(logger, run);
        var policy = run is null ? ConflictPolicy.Queue : catalog.Find(run.Runbook)?.Definition?.OnConflict ?? ConflictPolicy.Queue;
        if (policy == ConflictPolicy.Refuse)
        {
            await EndAsync(run!, null, RunStatus.Cancelled, $"refused: run {holder} holds concurrency key {run?.ConcurrencyKey}", []);
            return;
        }

        // Nothing to fire it again here: the run that frees the key dispatches the next in line as it ends, and the
        // watchdog dispatches the head of a line whose key came free without that.
        LogWaitingForKey(runId, holder);
    }

    [LoggerMessage(EventId = 204, Level = LogLevel.Debug, Message = "Run {RunId} waits: run {Holder} holds its concurrency key")]
    private partial void LogWaitingForKey(string runId, string holder);

    /// <summary>
    /// Queues the next attempt of the same run after a doubling backoff. The next attempt replays the journal, so it
    /// resumes at the step that failed instead of repeating the ones that succeeded.
    /// </summary>
    private async Task RetryLaterAsync(IRunDispatcher here, string runId, RunClaim claim, int attempt, TimeSpan backoff, string? error, CancellationToken cancellationToken)
    {
        var delay = TimeSpan.FromTicks((long)Math.Min(backoff.Ticks * Math.Pow(2, attempt - 1), TimeSpan.FromHours(1).Ticks));
        var at = time.GetUtcNow() + delay;

        // Due at its backoff in the store too, so a retry whose scheduled job is lost (a restart of the embedded
        // scheduler) is dispatched by the watchdog then, not at once.
        if (!await retry.RunAsync($"run {runId} back to the queue", ct => store.RequeueRunAsync(runId, $"attempt {attempt} failed ({error}); attempt {attempt + 1} at {at:HH:mm:ss} UTC", at, claim.Token, ct), drain.Token))
        {
            return;
        }

        try
        {
            await retry.RunAsync($"the retry trigger of run {runId}", _ => here.DispatchAttemptAsync(runId, attempt + 1, at, cancellationToken), drain.Token);
            LogRetrying(runId, attempt, Durations.Format(delay), error);
        }
        catch (RunDispatchException ex)
        {
            // The run is already back in the queue, due at its backoff: failing it now would lose a retry it is owed.
            // The watchdog dispatches it once it is due.
            LogRetryToWatchdog(runId, attempt, ex.Message);
        }
    }

    [LoggerMessage(EventId = 209, Level = LogLevel.Warning, Message = "Run {RunId} attempt {Attempt} failed, and its retry could not be scheduled; the watchdog will dispatch it when due ({Reason})")]
    private partial void LogRetryToWatchdog(string runId, int attempt, string reason);

    /// <summary>
    /// The node is shutting down and the run did not finish within the grace period: put it back in the queue and give
    /// it a job that runs at once, so another node (or this one, restarted) resumes it from its journal.
    /// </summary>
    private async Task ResumeElsewhereAsync(IRunDispatcher here, string runId, RunClaim claim, int attempt, string? reason)
    {
        // The shutdown grace is over, so this is one try: with the store away the run stays Running, and its recovery
        // after the restart resumes it from the journal as after a crash.
        if (!await retry.RunAsync($"run {runId} back to the queue", ct => store.RequeueRunAsync(runId, reason ?? "interrupted by shutdown", null, claim.Token, ct), drain.Token))
        {
            return;
        }

        try
        {
            await here.ResumeAsync(runId, attempt + 1, CancellationToken.None);
            LogHandedBack(runId);
        }
        catch (RunDispatchException ex)
        {
            // The scheduler may refuse this late in a shutdown; the watchdog of the next node to run (or of this one,
            // restarted) dispatches the run instead.
            LogHandedToWatchdog(runId, ex.Message);
        }
    }

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Run {RunId} was interrupted by shutdown and goes back to the queue")]
    private partial void LogHandedBack(string runId);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Run {RunId} was interrupted by shutdown and is queued; the watchdog will dispatch it ({Reason})")]
    private partial void LogHandedToWatchdog(string runId, string reason);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Run {RunId} attempt {Attempt} failed; retrying in {Delay}: {Error}")]
    private partial void LogRetrying(string runId, int attempt, string delay, string? error);

    private async Task EndAsync(RunRecord run, RunClaim? claim, RunStatus status, string? error, IReadOnlyList<StepOutcome> steps, RunProposal? proposal = null)
    {
        // Recorded even when the node is shutting down: the outcome is the one thing that must not be lost. A store that
        // is away is waited for until the shutdown grace is over; a run still unrecorded then is recovered as after a crash.
        if (await retry.RunAsync($"the outcome of run {run.Id} ({status})", ct => status == RunStatus.Proposed && proposal is not null && store is ITrustStore trust
                ? trust.ProposeAsync(run.Id, proposal, claim?.Token, ct)
                : store.FinishRunAsync(run.Id, status, error, claim?.Token, ct), drain.Token)
            && status != RunStatus.WaitingForHuman)
        {
            // Counted by the one write that ended the run, so a run recovered after a crash is not counted twice.
            metrics.RunEnded(run, status, time.GetUtcNow(), steps);
        }

        LogEnded(run.Id, status, error);
        events.Ended(run.Id, status);
        await DispatchNextForKeyAsync(run);
    }

    /// <summary>
    /// The run freed its concurrency key: the next run in line for it starts now, with no polling. Should this be lost
    /// (the node dies here), the watchdog dispatches the head of the line within its bound.
    /// </summary>
    private async Task DispatchNextForKeyAsync(RunRecord run)
    {
        if (run.ConcurrencyKey is not { } key)
        {
            return;
        }

        try
        {
            if (await store.ActiveRunForKeyAsync(key, CancellationToken.None) is { } next && next != run.Id
                && await store.GetRunAsync(next, CancellationToken.None) is { Status: RunStatus.Queued })
            {
                await dispatcher.RecheckKeyAsync(next, TimeSpan.Zero, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogNextForKeyFailed(run.Id, key, ex.Message);
        }
    }

    [LoggerMessage(EventId = 212, Level = LogLevel.Warning, Message = "Run {RunId} freed concurrency key {Key}, but the next run in line was not dispatched ({Reason}); the watchdog will")]
    private partial void LogNextForKeyFailed(string runId, string key, string reason);

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Run {RunId} of {Runbook} starting (attempt {Attempt}, recovering: {Recovering})")]
    private partial void LogStarting(string runId, string runbook, int attempt, bool recovering);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Run {RunId} ended {Status}: {Error}")]
    private partial void LogEnded(string runId, RunStatus status, string? error);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug, Message = "Run {RunId} was not startable (cancelled or already taken)")]
    private partial void LogNotStartable(string runId);

    /// <summary>Sends the runbook's own log lines to the host's logger, tagged with the step.</summary>
    private sealed class LoggerSink(ILogger logger) : RunbookEngine.Sdk.Hosting.IRunLogSink
    {
        public void Write(LogLevel level, string message, string? stepName)
        {
            using var scope = stepName is null ? null : logger.BeginScope(new Dictionary<string, object> { ["Step"] = stepName });
#pragma warning disable CA2254 // The runbook's message is the data here, already redacted.
            logger.Log(level, message);
#pragma warning restore CA2254
        }
    }
}

