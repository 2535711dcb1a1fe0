using Microsoft.Extensions.Logging;
using RunbookEngine.Alerts;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.Drills;

/// <summary>
/// Starts a runbook's drill: a shadow run (trigger <see cref="RunTrigger.Drill"/>) against its test case's alert or a
/// recorded alert. What a drill proves is checked before the run: the runbook still compiles, the alert still matches
/// its <c>alerts:</c> rules, its parameters still bind; the run then proves its read-only probes still work. A drill
/// that cannot start is still recorded, as a Failed drill run saying why, so its failure shows wherever runs do and
/// makes the runbook stale.
/// </summary>
public sealed partial class DrillRunner(
    RunService runs, IRunStore store, IAlertStore alerts, RunbookCatalog catalog, Toil.EngineMetrics metrics, TimeProvider time, ILogger<DrillRunner> logger)
{
    /// <summary>Who a scheduled drill's runs say started them.</summary>
    public const string TriggeredBy = "drill";

    /// <summary>Records and dispatches the runbook's drill run, or records why it failed before it could run.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="triggeredBy">Who or what: <see cref="TriggeredBy"/> for the schedule, a person through the API.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The drill's run, or why none was recorded (no such runbook, no <c>drill:</c> block).</returns>
    public async Task<DrillResult> StartAsync(string runbook, string triggeredBy, CancellationToken cancellationToken)
    {
        if (catalog.Find(runbook) is not { } entry)
        {
            return new DrillResult(null, DrillProblem.NotFound, $"no runbook '{runbook}'");
        }

        if (entry.Definition is not { } definition)
        {
            // Never valid front matter: there is no drill block to read, nor a version to record a run against.
            return new DrillResult(null, DrillProblem.RunbookInvalid, $"runbook '{runbook}' has invalid front matter: {Errors(entry.Diagnostics)}");
        }

        if (definition.Drill is not { } drill)
        {
            return new DrillResult(null, DrillProblem.NoDrill, $"runbook '{runbook}' has no drill: add a `drill: {{ schedule: \"0 6 * * 1\", case: NAME }}` block to its front matter");
        }

        if (entry.Problem is { } problem)
        {
            return await FailAsync(entry, problem.ContentHash, problem.Commit, triggeredBy,
                $"the runbook no longer compiles: version {problem.ContentHash[..12]} fails (the last good version keeps serving): {Errors(problem.Diagnostics)}", cancellationToken);
        }

        if (!entry.IsValid)
        {
            return await FailAsync(entry, entry.ContentHash, entry.Commit, triggeredBy, $"the runbook does not compile: {Errors(entry.Diagnostics)}", cancellationToken);
        }

        var (alert, given, error) = await AlertAsync(runbook, drill, cancellationToken);
        if (error is not null)
        {
            return await FailAsync(entry, entry.ContentHash, entry.Commit, triggeredBy, error, cancellationToken);
        }

        var parameters = new Dictionary<string, string>(given, StringComparer.Ordinal);
        if (alert is not null)
        {
            if (!definition.Alerts.Any(rule => AlertMatcher.Matches(rule, alert)))
            {
                return await FailAsync(entry, entry.ContentHash, entry.Commit, triggeredBy,
                    $"the drill's alert no longer matches the runbook's alerts: rules: alert {alert.Name} from {alert.Source} with labels {Labels(alert)}; rules: {Rules(definition)}", cancellationToken);
            }

            // As for a run an alert starts: values the alert supplies, unless the case gives them.
            foreach (var parameter in definition.Parameters)
            {
                if (!parameters.ContainsKey(parameter.Name) && parameter.From is { } from && ParameterBinder.FromAlert(alert, from) is { } value)
                {
                    parameters[parameter.Name] = value;
                }
            }
        }

        var result = await runs.TriggerAsync(runbook, parameters, RunTrigger.Drill, triggeredBy, null, cancellationToken);
        switch (result.Problem)
        {
            case TriggerProblem.None:
                LogStarted(runbook, result.Run!.Id);
                return new DrillResult(result.Run, DrillProblem.None, null);
            case TriggerProblem.NotFound:
                return new DrillResult(null, DrillProblem.NotFound, $"no runbook '{runbook}'");
            case TriggerProblem.InvalidParameters:
                return await FailAsync(entry, entry.ContentHash, entry.Commit, triggeredBy, $"a parameter no longer binds: {string.Join("; ", result.Errors)}", cancellationToken);
            case TriggerProblem.RunbookInvalid:
                return await FailAsync(entry, entry.ContentHash, entry.Commit, triggeredBy, $"the runbook does not compile: {string.Join("; ", result.Errors)}", cancellationToken);
            default:
                // Busy: the runbook is fine, its target is taken. Neither a pass nor a failure; the next drill tries again.
                return await EndAsync(entry, entry.ContentHash, entry.Commit, triggeredBy, RunStatus.Cancelled, $"the drill did not run: {string.Join("; ", result.Errors)}", cancellationToken);
        }
    }

    private async Task<(RunbookAlert? Alert, IReadOnlyDictionary<string, string> Parameters, string? Error)> AlertAsync(string runbook, DrillDefinition drill, CancellationToken cancellationToken)
    {
        if (drill.Case is { } testCase)
        {
            var (read, error) = DrillCase.Read(catalog.Root, runbook, testCase, time.GetUtcNow());
            return read is null ? (null, new Dictionary<string, string>(), error) : (read.Alert, read.Parameters, null);
        }

        var id = drill.Alert!;
        var record = await alerts.GetAlertAsync(id, cancellationToken);
        return record is null
            ? (null, new Dictionary<string, string>(), $"the drill's recorded alert {id} is not in the store (retention deletes alerts older than RunbookEngine:Retention:MaxAge); drill against a test case instead")
            : (record.Alert, new Dictionary<string, string>(), null);
    }

    private Task<DrillResult> FailAsync(CatalogEntry entry, string contentHash, string? commit, string triggeredBy, string reason, CancellationToken cancellationToken) =>
        EndAsync(entry, contentHash, commit, triggeredBy, RunStatus.Failed, reason, cancellationToken);

    /// <summary>Records a drill run that ends before it is dispatched, so the drill's outcome is in the store like any other.</summary>
    private async Task<DrillResult> EndAsync(CatalogEntry entry, string contentHash, string? commit, string triggeredBy, RunStatus status, string reason, CancellationToken cancellationToken)
    {
        // No toil baseline: a drill saves nobody any work.
        var run = await store.CreateRunAsync(new NewRun(entry.Name, commit, contentHash, RunTrigger.Drill, triggeredBy, ManualMinutes: null), cancellationToken);

        // A drill is shadow whether or not it got as far as running, as the API says of every drill.
        if (store is Storage.ITrustStore trust)
        {
            await trust.SetModeAsync(run.Id, RunMode.Shadow, null, cancellationToken);
            run = run with { Mode = RunMode.Shadow };
        }

        if (await store.FinishRunAsync(run.Id, status, reason, cancellationToken))
        {
            metrics.RunEnded(run, status, time.GetUtcNow(), []);
        }

        LogFailed(entry.Name, run.Id, reason);
        return new DrillResult(await store.GetRunAsync(run.Id, cancellationToken) ?? run, DrillProblem.None, null);
    }

    private static string Errors(IEnumerable<Scripting.RunbookDiagnostic> diagnostics) => string.Join("; ", diagnostics.Where(d => d.IsError));

    private static string Labels(RunbookAlert alert) =>
        alert.Labels.Count == 0 ? "{}" : "{ " + string.Join(", ", alert.Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}: {l.Value}")) + " }";

    private static string Rules(RunbookDefinition definition) => definition.Alerts.Count == 0
        ? "none (the runbook no longer declares alerts:)"
        : string.Join(" | ", definition.Alerts.Select(r =>
            string.Join(", ", new[] { r.Name is { } n ? $"name {n}" : null, r.Source is { } s ? $"source {s}" : null }
                .Concat(r.Labels.Select(l => $"{l.Key} =~ {l.Value}")).Where(x => x is not null)) is { Length: > 0 } text ? text : "any alert"));

    [LoggerMessage(EventId = 1500, Level = LogLevel.Information, Message = "Drill of {Runbook} started as run {RunId}")]
    private partial void LogStarted(string runbook, string runId);

    [LoggerMessage(EventId = 1501, Level = LogLevel.Warning, Message = "Drill of {Runbook} (run {RunId}) ended before it ran: {Reason}")]
    private partial void LogFailed(string runbook, string runId, string reason);
}

/// <summary>What starting a drill did.</summary>
/// <param name="Run">The drill's run (dispatched, or already ended saying why it could not run); null when none was recorded.</param>
/// <param name="Problem">Why no run was recorded.</param>
/// <param name="Error">That, in words.</param>
public sealed record DrillResult(RunRecord? Run, DrillProblem Problem, string? Error);

/// <summary>Why starting a drill recorded no run.</summary>
public enum DrillProblem
{
    /// <summary>A run was recorded.</summary>
    None,

    /// <summary>No such runbook.</summary>
    NotFound,

    /// <summary>The runbook has no <c>drill:</c> block.</summary>
    NoDrill,

    /// <summary>The runbook's front matter never parsed, so it has no drill to read.</summary>
    RunbookInvalid,
}
