using RunbookEngine.Notifications;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary>The notifications outbox: what is pending, delivered or failing, and a retry; documented in docs/api.md.</summary>
internal static class NotificationApi
{
    public static void MapNotificationApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/notifications");
        api.MapGet("", ListAsync);
        api.MapPost("/{id}/retry", RetryAsync);
    }

    private static async Task<IResult> ListAsync(string? state, int? limit, INotificationStore store, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 1000)
        {
            return TypedResults.BadRequest(new ApiError("limit must be between 1 and 1000"));
        }

        if (state is not (null or "pending" or "failing" or "abandoned" or "delivered"))
        {
            return TypedResults.BadRequest(new ApiError($"'{state}' is not a notification state; use pending, failing, abandoned or delivered"));
        }

        var rows = await store.ListNotificationsAsync(state, limit ?? 100, cancellationToken);
        return TypedResults.Ok(rows.Select(NotificationView.Of));
    }

    private static async Task<IResult> RetryAsync(string id, INotificationStore store, CancellationToken cancellationToken) =>
        await store.RetryNotificationAsync(id, cancellationToken) is { } row
            ? TypedResults.Ok(NotificationView.Of(row))
            : TypedResults.NotFound(new ApiError($"no delivery '{id}' is waiting or failing (it may have been delivered already, or it is an event not yet routed)"));

    /// <summary>A row as the API shows it.</summary>
    internal sealed record NotificationView(
        string Id, string Event, string? Runbook, string? RunId, string? Channel, string State, int Attempts, DateTimeOffset CreatedAt,
        DateTimeOffset? NextAttemptAt, DateTimeOffset? DeliveredAt, string? LastError, string? Detail)
    {
        public static NotificationView Of(NotificationRecord r) => new(
            r.Id, r.Event, r.Runbook, r.RunId, r.Channel, r.State, r.Attempts, r.CreatedAt,
            r.State is "Delivered" or "Abandoned" ? null : r.NextAttemptAt, r.DeliveredAt, r.LastError, r.Detail);
    }
}
