using System.Text.Json;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;
using RunbookEngine.Trust.GameDays;

namespace RunbookEngine.Host.Api;

/// <summary>Game days: start one, follow it, read a runbook's history; documented in docs/api.md.</summary>
internal static class GameDayApi
{
    public static void MapGameDayApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapPost("/runbooks/{name}/gamedays", StartAsync);
        api.MapGet("/runbooks/{name}/gamedays", ListAsync);
        api.MapGet("/gamedays/{id}", GetAsync);
    }

    private static async Task<IResult> StartAsync(string name, HttpRequest request, GameDayRunner runner, CancellationToken cancellationToken)
    {
        var by = "api";
        if (request.ContentLength is > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            try
            {
                using var body = await JsonDocument.ParseAsync(request.Body, cancellationToken: cancellationToken);
                if (body.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return TypedResults.BadRequest(new ApiError("the body must be a JSON object such as {\"by\": \"alice\"}, or empty"));
                }

                if (body.RootElement.TryGetProperty("by", out var who))
                {
                    if (who.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(who.GetString()))
                    {
                        return TypedResults.BadRequest(new ApiError("\"by\" must be the name of the person starting the game day"));
                    }

                    by = who.GetString()!.Trim();
                }
            }
            catch (JsonException ex)
            {
                return TypedResults.BadRequest(new ApiError($"the body is not valid JSON: {ex.Message}"));
            }
        }

        var started = await runner.StartGameDayAsync(name, RunbookEngine.Access.AccessIdentity.Name(request.HttpContext.User) ?? by, cancellationToken);
        return started.Problem switch
        {
            GameDayStartProblem.None => TypedResults.Accepted($"/api/gamedays/{started.GameDay!.Id}", GameDayView.Of(started.GameDay)),
            GameDayStartProblem.NotFound => TypedResults.NotFound(new ApiError(started.Error!)),
            GameDayStartProblem.Busy => TypedResults.Conflict(new ApiError(started.Error!)),
            GameDayStartProblem.Invalid => TypedResults.UnprocessableEntity(new ApiError(started.Error!)),
            GameDayStartProblem.WouldNotFix => TypedResults.UnprocessableEntity(new ApiError(started.Error!)),
            _ => TypedResults.BadRequest(new ApiError(started.Error!)),
        };
    }

    private static async Task<IResult> ListAsync(string name, int? limit, IGameDayStore store, RunbookCatalog catalog, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > 500)
        {
            return TypedResults.BadRequest(new ApiError("limit must be between 1 and 500"));
        }

        var history = await store.ListGameDaysAsync(name, limit ?? 50, cancellationToken);

        // A runbook removed from the catalog keeps its history; a name that never had either is a mistake.
        if (history.Count == 0 && catalog.Find(name) is null)
        {
            return TypedResults.NotFound(new ApiError($"no runbook '{name}'"));
        }

        return TypedResults.Ok(new { gameDays = history.Select(GameDayView.Of) });
    }

    private static async Task<IResult> GetAsync(string id, IGameDayStore store, CancellationToken cancellationToken) =>
        await store.GetGameDayAsync(id, cancellationToken) is { } gameDay
            ? TypedResults.Ok(GameDayView.Of(gameDay))
            : TypedResults.NotFound(new ApiError($"no game day '{id}'"));
}

/// <summary>A game day as the API shows it, with its three times in seconds.</summary>
internal sealed record GameDayView(
    string Id,
    string Runbook,
    GameDayStatus Status,
    GameDayPhase Phase,
    string StartedBy,
    DateTimeOffset StartedAt,
    DateTimeOffset? InjectedAt,
    string? AlertId,
    DateTimeOffset? AlertAt,
    string? RunId,
    DateTimeOffset? RemediatedAt,
    DateTimeOffset? VerifiedAt,
    DateTimeOffset? RestoredAt,
    DateTimeOffset? FinishedAt,
    double? TimeToDetectSeconds,
    double? TimeToRemediateSeconds,
    double? TimeToRecoverSeconds,
    string? Error,
    string Node,
    string Log)
{
    public static GameDayView Of(GameDayRecord g) => new(
        g.Id, g.Runbook, g.Status, g.Phase, g.StartedBy, g.StartedAt, g.InjectedAt, g.AlertId, g.AlertAt, g.RunId, g.RemediatedAt, g.VerifiedAt,
        g.RestoredAt, g.FinishedAt, Seconds(g.TimeToDetect), Seconds(g.TimeToRemediate), Seconds(g.TimeToRecover), g.Error, g.Node, g.Log);

    private static double? Seconds(TimeSpan? span) => span is { } s ? Math.Round(s.TotalSeconds, 3) : null;
}
