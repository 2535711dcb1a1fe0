using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using RunbookEngine.Dashboard.Pages;

namespace RunbookEngine.Dashboard;

/// <summary>Mapping the dashboard into a host.</summary>
public static class DashboardEndpoints
{
    /// <summary>Serves the dashboard at <c>/</c>: runs, a run, runbooks, alerts, toil, and the actions on them.</summary>
    /// <param name="app">The host's endpoints.</param>
    /// <returns>The endpoints.</returns>
    public static IEndpointRouteBuilder MapRunbookDashboard(this IEndpointRouteBuilder app)
    {
        // Forms post application/x-www-form-urlencoded; each handler asks IAntiforgery before it reads the form, since
        // the endpoints bind no form parameters for the framework to check. Who may reach them is the host's policy.
        app.MapGet("/", RunsPage.RenderAsync);
        app.MapGet("/runs/{id}", RunPage.RenderAsync);
        app.MapPost("/runs/{id}/cancel", Actions.CancelAsync);
        app.MapPost("/runs/{id}/retry", Actions.RetryAsync);
        app.MapPost("/runs/{id}/steps/{step:int}/complete", Actions.CompleteAsync);
        app.MapPost("/runs/{id}/verdict", Actions.VerdictAsync);
        app.MapGet("/runbooks", RunbooksPage.ListAsync);
        app.MapGet("/runbooks/{name}", RunbooksPage.DetailAsync);
        app.MapPost("/runbooks/{name}/start", Actions.StartAsync);
        app.MapPost("/breakers/{runbook}/reset", Actions.ResetBreakerAsync);
        app.MapGet("/alerts", AlertsPage.RenderAsync);
        app.MapGet("/incidents", IncidentsPage.ListAsync);
        app.MapGet("/incidents/{id}", IncidentsPage.DetailAsync);
        app.MapGet("/toil", ToilPage.RenderAsync);
        app.MapGet("/notifications", NotificationsPage.RenderAsync);
        app.MapGet("/slos", SlosPage.Render);
        app.MapPost("/notifications/{id}/retry", Actions.RetryNotificationAsync);
        app.MapGet("/signin", SignInPage.Render).AllowAnonymous();
        app.MapPost("/signin", SignInPage.SignInAsync).AllowAnonymous();
        // Cast: the handler has a RequestDelegate shape, which would discard the result it returns.
        app.MapPost("/signout", (Delegate)SignInPage.SignOutAsync);
        return app;
    }
}
