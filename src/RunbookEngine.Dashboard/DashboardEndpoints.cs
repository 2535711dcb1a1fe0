using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using RunbookEngine.Dashboard.Pages;

namespace RunbookEngine.Dashboard;

/// <summary>Mapping the dashboard into a host.</summary>
public static class DashboardEndpoints
{
    /// <summary>The services the dashboard and access control need.</summary>
    /// <param name="services">The host's services.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRunbookDashboard(this IServiceCollection services) => services.AddSingleton<AccessControlTokens>();

    /// <summary>Serves the dashboard at <c>/</c>: runs, a run, runbooks, alerts, toil, and the actions on them.</summary>
    /// <param name="app">The host's endpoints.</param>
    /// <returns>The endpoints.</returns>
    public static IEndpointRouteBuilder MapRunbookDashboard(this IEndpointRouteBuilder app)
    {
        // Forms post application/x-www-form-urlencoded; the handlers read and check the form themselves (anti-forgery
        // token, who acts), so the framework's own form antiforgery is not asked for.
        app.MapGet("/", RunsPage.RenderAsync);
        app.MapGet("/runs/{id}", RunPage.RenderAsync);
        app.MapPost("/runs/{id}/cancel", Actions.CancelAsync).DisableAntiforgery();
        app.MapPost("/runs/{id}/retry", Actions.RetryAsync).DisableAntiforgery();
        app.MapPost("/runs/{id}/steps/{step:int}/complete", Actions.CompleteAsync).DisableAntiforgery();
        app.MapGet("/runbooks", RunbooksPage.ListAsync);
        app.MapGet("/runbooks/{name}", RunbooksPage.DetailAsync);
        app.MapPost("/runbooks/{name}/start", Actions.StartAsync).DisableAntiforgery();
        app.MapPost("/breakers/{runbook}/reset", Actions.ResetBreakerAsync).DisableAntiforgery();
        app.MapGet("/alerts", AlertsPage.RenderAsync);
        app.MapGet("/toil", ToilPage.RenderAsync);
        app.MapGet("/signin", SignInPage.Render);
        app.MapPost("/signin", SignInPage.SignInAsync).DisableAntiforgery();
        return app;
    }
}
