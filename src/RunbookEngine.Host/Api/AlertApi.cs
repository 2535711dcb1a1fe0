using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary>Alerts and circuit breakers; documented in docs/api.md.</summary>
internal static class AlertApi
{
    public static void MapAlertApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/alerts", ListAsync);
        api.MapGet("/alerts/{id}", GetAsync);
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
    DateTimeOffset? ResolvedAt)
{
    public static AlertView Of(AlertRecord record) => new(
        record.Id, record.Alert.Source, record.Alert.Name, record.Alert.Status.ToString().ToLowerInvariant(), record.Alert.Severity, record.Alert.Labels,
        record.Alert.Annotations, record.Alert.StartsAt, record.Alert.EndsAt, record.Alert.Fingerprint, record.Alert.DeliveryId, record.ReceivedAt,
        record.Outcome.ToString(), record.Detail, record.DuplicateOf, record.ResolvedAt);
}
