using Microsoft.Extensions.Options;
using Quartz;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary><c>/healthz</c>: the process answers. <c>/readyz</c>: the store, the scheduler and the catalog are ready.</summary>
internal static class HealthEndpoints
{
    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new { status = "alive" }));
        app.MapGet("/readyz", async (IRunStore store, ISchedulerFactory schedulers, RunbookCatalog catalog, IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken) =>
        {
            var problems = new List<string>();
            try
            {
                await store.GetRunAsync("readiness-probe", cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                problems.Add($"store: {ex.Message}");
            }

            var scheduler = await schedulers.GetScheduler(cancellationToken);
            if (options.Value.ExecutesRuns && await scheduler.GetStatus(cancellationToken) != SchedulerStatus.Running)
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
        });
    }
}
