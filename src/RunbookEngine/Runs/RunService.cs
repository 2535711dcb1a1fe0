using System.Text.Json;
using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;
using RunbookEngine.Scripting;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Scheduling;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>
/// Starts, cancels and retries runs. A run is always recorded before it is dispatched, so a crash between the two
/// leaves a Queued run that the watchdog dispatches, never a job with no run.
/// </summary>
public sealed partial class RunService(IRunStore store, IAlertStore alerts, RunbookCatalog catalog, IRunDispatcher dispatcher, Toil.EngineMetrics metrics, TimeProvider time, ILogger<RunService> logger, SecretParameters secrets, Slos.SloBudgets? budgets = null)
{
    /// <summary>Records a run and hands it to the scheduler.</summary>
    /// <param name="runbook">The runbook's name.</param>
    /// <param name="parameters">Parameter values as text.</param>
    /// <param name="trigger">What starts it.</param>
    /// <param name="triggeredBy">Who or what.</param>
    /// <param name="retryOf">The run this one retries, if any.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <param name="alert">The alert that starts it (its id and content), if any: parameters with <c>from:</c> bind from it.</param>
    /// <param name="retryOfAlert">For a retry: the alert the retried run answered, so its time to remediate counts the retry.</param>
    /// <param name="retriedGate">For a retry: the budget gate's decision on the retried run, which the retry keeps.</param>
    /// <returns>The run, or why none was started.</returns>
    public async Task<TriggerResult> TriggerAsync(
        string runbook,
        IReadOnlyDictionary<string, string> parameters,
        RunTrigger trigger,
        string triggeredBy,
        string? retryOf,
        CancellationToken cancellationToken,
        (string Id, RunbookAlert Alert)? alert = null,
        string? retryOfAlert = null,
        Slos.BudgetGateDecision? retriedGate = null)
    {
        var entry = catalog.Find(runbook);
        if (entry is null)
        {
            return TriggerResult.NotFound;
        }

        if (!entry.IsValid)
        {
            return new TriggerResult(null, TriggerProblem.RunbookInvalid, [.. entry.Diagnostics.Where(d => d.IsError).Select(d => d.ToString())]);
        }

        // Values taken from the alert are stored with the run as if they had been given, so the run shows what it ran
        // with and a retry or a recovery binds exactly the same values.
        if (alert is { Alert: var source })
        {
            var withAlert = new Dictionary<string, string>(parameters, StringComparer.Ordinal);
            foreach (var parameter in entry.Definition!.Parameters)
            {
                if (!withAlert.ContainsKey(parameter.Name) && parameter.From is { } from && ParameterBinder.FromAlert(source, from) is { } value)
                {
                    withAlert[parameter.Name] = value;
                }
            }

            parameters = withAlert;
        }

        var bound = ParameterBinder.Bind(entry.Definition!, parameters, alert: null);
        if (bound.Parameters is null)
        {
            return new TriggerResult(null, TriggerProblem.InvalidParameters, bound.Errors);
        }

        string? key = null;

        // A drill only looks, so it neither waits for nor holds a target: it must not hold back, or cool down, a real run.
        if (entry.Definition!.Concurrency is { } template && trigger != RunTrigger.Drill)
        {
            key = ConcurrencyKey.Render(runbook, template, bound.Parameters.ToDisplay(), alert?.Alert);
            if (entry.Definition.OnConflict == ConflictPolicy.Refuse && await store.ActiveRunForKeyAsync(key, cancellationToken) is { } holder)
            {
                return new TriggerResult(null, TriggerProblem.Busy, [$"run {holder} holds concurrency key {key}; this runbook refuses a second run for it"]);
            }
        }

        // A cooldown holds back alerts only: a person who starts a run by hand has decided it is needed.
        var target = key ?? (alert is { Alert: var a } ? $"{a.Source}:{a.Fingerprint}" : null);
        if (alert is not null && entry.Definition.Cooldown is { } cooldown && target is not null
            && await alerts.RecentRunForTargetAsync(runbook, target, time.GetUtcNow() - cooldown, cancellationToken) is { } recent)
        {
            var when = recent.FinishedAt is { } finished ? $"ended {finished:HH:mm:ss} UTC" : "is still active";
            return new TriggerResult(null, TriggerProblem.Cooldown, [$"run {recent.Id} for {target} {when}; cooldown {Durations.Format(cooldown)}"]);
        }

        // Alert-started runs are gated: a person who starts a run has decided to take the risk, and a schedule was decided
        // by people when it was written. A retry is not a new decision: it keeps the retried run's gate (a retry of a run
        // waiting for approval must not act on its own), and a retry of an alert-started run is decided again, the
        // stricter of the two kept. A host without the budgets (a tool, a test) reads unknown.
        var gated = trigger == RunTrigger.Retry ? retriedGate : null;
        var alerted = (alert is not null && trigger == RunTrigger.Alert) || (trigger == RunTrigger.Retry && retryOfAlert is not null);
        if (alerted && entry.Definition.BudgetGate is { } gate)
        {
            var now = budgets?.Decide(gate) ?? new Slos.BudgetGateDecision(gate.Slo, "unknown", null, gate.BelowPercent,
                gate.Then == RunMode.Shadow ? "shadow" : "confirm", true, null, time.GetUtcNow(), "no SLOs are evaluated here, so the budget is unknown");
            gated = Slos.BudgetGateDecision.Stricter(gated, now);
        }

        // A drill saves nobody any work, so it carries no toil baseline.
        var (shown, sealedSecrets) = secrets.Seal(parameters, entry.Definition);
        var run = await store.CreateRunAsync(
            new NewRun(runbook, entry.Commit, entry.ContentHash, trigger, triggeredBy, shown, key, retryOf,
                alert?.Id ?? retryOfAlert, target, trigger == RunTrigger.Drill ? null : entry.Definition.ManualMinutes, Telemetry.RunTracing.CurrentTraceParent(), sealedSecrets)
            {
                BudgetGate = gated,
            },
            cancellationToken);
        using (Telemetry.RunLogScope.Begin(logger, run))
        {
            LogQueued(run.Id, runbook, trigger, triggeredBy);
        }

        await dispatcher.DispatchAsync(run.Id, cancellationToken);
        return new TriggerResult(run, TriggerProblem.None, []);
    }

    /// <summary>Cancels a run: a queued one never starts, a running one is interrupted, wherever it runs.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>What happened.</returns>
    /// <param name="by">Who asks, recorded in the run's reason.</param>
    public async Task<CancelOutcome> CancelAsync(string runId, CancellationToken cancellationToken, string? by = null)
    {
        var run = await store.GetRunAsync(runId, cancellationToken);
        if (run is null)
        {
            return CancelOutcome.NotFound;
        }

        if (run.IsTerminal)
        {
            return CancelOutcome.AlreadyEnded;
        }

        if (run.Status == RunStatus.Running)
        {
            await dispatcher.InterruptAsync(runId, cancellationToken);
            return CancelOutcome.Requested;
        }

        var reason = (run.Status == RunStatus.WaitingForHuman ? "cancelled while it waited for a person" : "cancelled before it started") + (by is null ? "" : " by " + by);
        if (await store.FinishRunAsync(runId, RunStatus.Cancelled, reason, cancellationToken))
        {
            metrics.RunEnded(run, RunStatus.Cancelled, time.GetUtcNow(), await store.GetStepsAsync(runId, cancellationToken));
        }

        try
        {
            await dispatcher.RemoveAsync(runId, cancellationToken);
        }
        catch (RunDispatchException ex)
        {
            // Only tidying: the run is Cancelled in the store, so a job left behind (one still completing the
            // execution that just rested, or a wait's deadline) finds it ended and does nothing.
            using var scope = Telemetry.RunLogScope.Begin(logger, run);
            LogJobNotDeleted(runId, ex.Message);
        }

        // A run resting on a person holds its concurrency key, and a queued one may be first in line: the next in
        // line goes now (the watchdog would within its bound).
        if (run.ConcurrencyKey is { } key && await store.ActiveRunForKeyAsync(key, cancellationToken) is { } next)
        {
            await dispatcher.RecheckKeyAsync(next, TimeSpan.Zero, cancellationToken);
        }

        return CancelOutcome.Cancelled;
    }

    /// <summary>Starts a new run with the same runbook and parameters, linked to the old one.</summary>
    /// <param name="runId">The run to retry.</param>
    /// <param name="triggeredBy">Who asks.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new run, or why none was started.</returns>
    public async Task<TriggerResult> RetryAsync(string runId, string triggeredBy, CancellationToken cancellationToken)
    {
        var run = await store.GetRunAsync(runId, cancellationToken);
        if (run is null)
        {
            return TriggerResult.NotFound;
        }

        var parameters = secrets.Open(run);

        // A drill's retry is a drill: as a plain retry it would run the drill's test alert in the runbook's own mode, and act.
        var trigger = run.Trigger == RunTrigger.Drill ? RunTrigger.Drill : RunTrigger.Retry;
        return await TriggerAsync(run.Runbook, parameters, trigger, triggeredBy, run.Id, cancellationToken, retryOfAlert: run.AlertId, retriedGate: run.BudgetGate);
    }

    [LoggerMessage(EventId = 101, Level = LogLevel.Debug, Message = "Run {RunId} is cancelled; its scheduler job was left to expire ({Reason})")]
    private partial void LogJobNotDeleted(string runId, string reason);

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Run {RunId} of {Runbook} queued ({Trigger} by {TriggeredBy})")]
    private partial void LogQueued(string runId, string runbook, RunTrigger trigger, string triggeredBy);
}

/// <summary>The outcome of a trigger request.</summary>
/// <param name="Run">The run started, or null.</param>
/// <param name="Problem">Why none was started.</param>
/// <param name="Errors">Each problem, for the person who asked.</param>
public sealed record TriggerResult(Runs.RunRecord? Run, TriggerProblem Problem, IReadOnlyList<string> Errors)
{
    /// <summary>No such runbook.</summary>
    public static readonly TriggerResult NotFound = new(null, TriggerProblem.NotFound, []);
}

/// <summary>Why a trigger started no run.</summary>
public enum TriggerProblem
{
    /// <summary>A run was started.</summary>
    None,

    /// <summary>No runbook of that name (or no run of that id, for a retry).</summary>
    NotFound,

    /// <summary>The runbook does not compile or its front matter is invalid.</summary>
    RunbookInvalid,

    /// <summary>A parameter is missing or wrong.</summary>
    InvalidParameters,

    /// <summary>Another run holds the concurrency key and the runbook refuses a second one.</summary>
    Busy,

    /// <summary>An alert-started run for the same target ran within the runbook's cooldown.</summary>
    Cooldown,
}

/// <summary>What a cancel request did.</summary>
public enum CancelOutcome
{
    /// <summary>No such run.</summary>
    NotFound,

    /// <summary>It had already ended.</summary>
    AlreadyEnded,

    /// <summary>It was queued or waiting and is now cancelled.</summary>
    Cancelled,

    /// <summary>It is running; its node has been asked to interrupt it.</summary>
    Requested,
}
