using System.Net;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: the store, the scheduler and the catalog are ready.</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }));
        app.MapGet("/readyz", async (HttpContext http, IRunStore store, IServiceProvider services, RunbookCatalog catalog, IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken) =>
        {
            var problems = new List<string>();
            try
            {
                await store.GetRunAsync("readiness-probe", cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A driver's message can name the database host, user and schema; a probe from anywhere gets only the verdict.
                problems.Add(MaySeeDetail(http, options.Value) ? $"store: {ex.Message}" : "store: unavailable");
            }

            if (options.Value.ExecutesRuns && services.GetService<RunbookEngine.Scheduling.ISchedulerStatus>() is not { IsRunning: true })
            {
                problems.Add("scheduler: not running");
            }

            if (!catalog.IsReady)
            {
                problems.Add("catalog: runbooks not loaded yet");
            }

            return problems.Count == 0
                ? Results.Ok(new { status = "ready" })
                : Results.Json(new { status = "not ready", problems }, statusCode: StatusCodes.Status503ServiceUnavailable);
        }).RequireAuthorization(RunbookEngine.Access.AccessIdentity.IdentifyPolicy);
    }

    private static bool MaySeeDetail(HttpContext http, RunbookEngineOptions options) =>
        http.User.Identity?.IsAuthenticated == true
        || (options.Access.TrustLoopback && http.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote));
}
