using RunbookEngine.Alerts;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Host.Api;

/// <summary>Alerts and circuit breakers; documented in docs/api.md.</summary>
internal static class AlertApi
{
    public static void MapAlertApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/alerts", ListAsync);
        api.MapGet("/alerts/{id}", GetAsync);
        api.MapGet("/alerts/{id}/test-case", TestCaseAsync);
        api.MapGet("/breakers", async (CircuitBreakers breakers, CancellationToken cancellationToken) => TypedResults.Ok(await breakers.ListAsync(cancellationToken)));
        api.MapPost("/breakers/{runbook}/reset", ResetAsync);
    }

    private static async Task<IResult> ListAsync(IAlertStore store, string? status, bool? matched, string? source, string? outcome, int? limit, string? before, CancellationToken cancellationToken)
    {
        AlertStatus? wantedStatus = null;
        if (status is not null)
        {
            if (!Enum.TryParse<AlertStatus>(status, ignoreCase: true, out var parsed) || int.TryParse(status, out _))
            {
                return TypedResults.BadRequest(new ApiError($"unknown status '{status}'; use firing or resolved"));
            }

            wantedStatus = parsed;
        }

        AlertOutcome? wantedOutcome = null;
        if (outcome is not null)
        {
            if (!Enum.TryParse<AlertOutcome>(outcome, ignoreCase: true, out var parsed) || int.TryParse(outcome, out _))
            {
                return TypedResults.BadRequest(new ApiError($"unknown outcome '{outcome}'; use one of {string.Join(", ", Enum.GetNames<AlertOutcome>())}"));
            }

            wantedOutcome = parsed;
        }

        if (limit is < 1 or > 500)
        {
            return TypedResults.BadRequest(new ApiError("limit must be between 1 and 500"));
        }

        var alerts = await store.ListAlertsAsync(new AlertQuery(wantedStatus, matched, source, wantedOutcome, limit ?? 50, before), cancellationToken);
        return TypedResults.Ok(new
        {
            alerts = alerts.Select(AlertView.Of),
            next = alerts.Count == (limit ?? 50) ? $"/api/alerts?before={alerts[^1].Id}" : null,
        });
    }

    private static async Task<IResult> GetAsync(string id, IAlertStore store, CancellationToken cancellationToken)
    {
        if (await store.GetAlertAsync(id, cancellationToken) is not { } alert)
        {
            return TypedResults.NotFound(new ApiError($"no alert '{id}'"));
        }

        var decisions = await store.GetDecisionsAsync(id, cancellationToken);
        var runs = await store.RunsForAlertAsync(alert.DuplicateOf ?? id, cancellationToken);
        return TypedResults.Ok(new
        {
            alert = AlertView.Of(alert),
            decisions,
            runs = runs.Select(r => new { r.Id, r.Runbook, r.Status, r.QueuedAt, r.FinishedAt, r.Error }),
            payload = await store.GetPayloadAsync(alert.DeliveryRowId, cancellationToken),
        });
    }

    /// <summary>A runbook test case recorded from the alert and the run it started (docs/trust.md), as YAML.</summary>
    private static async Task<IResult> TestCaseAsync(string id, string? runbook, IAlertStore alerts, IRunStore runs, RunbookCatalog catalog, CancellationToken cancellationToken)
    {
        if (await alerts.GetAlertAsync(id, cancellationToken) is not { } alert)
        {
            return TypedResults.NotFound(new ApiError($"no alert '{id}'"));
        }

        var started = await alerts.RunsForAlertAsync(alert.DuplicateOf ?? id, cancellationToken);
        var candidates = started.Where(r => runbook is null || string.Equals(r.Runbook, runbook, StringComparison.Ordinal)).ToList();
        if (candidates.Count == 0)
        {
            return TypedResults.NotFound(new ApiError(runbook is null || started.Count == 0
                ? $"alert '{id}' started no run (it was {alert.Outcome}{(alert.Detail is { } detail ? $": {detail}" : "")}); a test case is recorded from the run an alert started"
                : $"alert '{id}' started no run of '{runbook}'; it started runs of {string.Join(", ", started.Select(r => r.Runbook).Distinct())}"));
        }

        var runbooks = candidates.Select(r => r.Runbook).Distinct(StringComparer.Ordinal).ToList();
        if (runbooks.Count > 1)
        {
            return TypedResults.BadRequest(new ApiError(
                $"alert '{id}' started runs of {runbooks.Count} runbooks; say which with ?runbook=NAME",
                [.. candidates.Select(r => $"{r.Runbook}: run {r.Id} ({r.Status})")]));
        }

        // A retry of the alert's run is a run of its own; the newest says how the alert was handled in the end.
        var run = candidates.OrderBy(r => r.QueuedAt).Last();
        if (run.Status is RunStatus.Queued or RunStatus.Running or RunStatus.WaitingForHuman)
        {
            return TypedResults.Conflict(new ApiError($"run {run.Id} of {run.Runbook} has not ended (it is {run.Status}); record the case once it has"));
        }

        var yaml = TestCaseRecording.Write(new RecordedRun(
            id,
            alert.Alert,
            run.Runbook,
            run.Id,
            run.Status,
            RunParameters.Masked(run, catalog),
            await runs.GetStepsAsync(run.Id, cancellationToken),
            await runs.GetCallsAsync(run.Id, cancellationToken))
        {
            Proposal = run.Proposal?.Step,
        });
        return TypedResults.Text(yaml, "application/yaml", System.Text.Encoding.UTF8);
    }

    private static async Task<IResult> ResetAsync(string runbook, HttpRequest request, CircuitBreakers breakers, CancellationToken cancellationToken)
    {
        var by = RunbookEngine.Access.AccessIdentity.Name(request.HttpContext.User) ?? (request.Query["by"].ToString() is { Length: > 0 } who ? who : "api");
        return TypedResults.Ok(await breakers.ResetAsync(runbook, by, cancellationToken));
    }
}

/// <summary>An alert as the API shows it.</summary>
internal sealed record AlertView(
    string Id,
    string Source,
    string Name,
    string Status,
    string? Severity,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    DateTimeOffset StartsAt,
    DateTimeOffset? EndsAt,
    string Fingerprint,
    string? DeliveryId,
    DateTimeOffset ReceivedAt,
    string Outcome,
    string? Detail,
    string? DuplicateOf,
    DateTimeOffset? ResolvedAt,
    string? IncidentId)
{
    public static AlertView Of(AlertRecord record) => new(
        record.Id, record.Alert.Source, record.Alert.Name, record.Alert.Status.ToString().ToLowerInvariant(), record.Alert.Severity, record.Alert.Labels,
        record.Alert.Annotations, record.Alert.StartsAt, record.Alert.EndsAt, record.Alert.Fingerprint, record.Alert.DeliveryId, record.ReceivedAt,
        record.Outcome.ToString(), record.Detail, record.DuplicateOf, record.ResolvedAt, record.IncidentId);
}
