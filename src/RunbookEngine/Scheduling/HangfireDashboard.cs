using System.Collections.Concurrent;
using System.Net;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using RunbookEngine.Access;
using RunbookEngine.Storage;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Hangfire's own dashboard at <c>/hangfire</c>, for the scheduler's view of run history (jobs, retries, recurring
/// schedules, servers), behind the same access as ours: whoever may see our dashboard may see it; only a token holder
/// (signed in, or with a bearer token) may trigger or delete, and everyone else sees it read-only.
/// </summary>
public static class HangfireDashboard
{
    /// <summary>Where it is served.</summary>
    public const string Path = "/hangfire";

    private static int _rendererAdded;

    /// <summary>Serves the dashboard behind the host's access schemes.</summary>
    /// <param name="app">The host.</param>
    /// <returns>The host.</returns>
    public static IApplicationBuilder UseRunbookHangfireDashboard(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The dashboard is middleware, not an endpoint, so the authorization policies of our pages do not reach it:
        // it is authenticated here as they are, and a browser that may not see it goes to the sign-in page.
        app.UseWhen(http => http.Request.Path.StartsWithSegments(Path), branch => branch.Use(async (http, next) =>
        {
            var result = await http.AuthenticateAsync(AccessIdentity.AnyScheme);
            if (!result.Succeeded || result.Principal?.Identity?.IsAuthenticated != true)
            {
                await http.ChallengeAsync(AccessIdentity.AnyScheme);
                return;
            }

            http.User = result.Principal;
            await next(http);
        }));

        var store = app.ApplicationServices.GetRequiredService<IRunStore>();
        RunDisplayNameAttribute.RunbookOf = RunbookNames(store);
        if (Interlocked.Exchange(ref _rendererAdded, 1) == 0)
        {
            // A run's job links to the run's page in our dashboard, where its steps, toil and alert are.
            GlobalConfiguration.Configuration.UseJobDetailsRenderer(10, dto =>
                dto.JobDetails.Job?.Type == typeof(RunJob) && dto.JobDetails.Job.Args.Count > 0 && dto.JobDetails.Job.Args[0] is string runId
                    ? new NonEscapedString(
                        $"<div class=\"alert alert-info\">This job executes run <a id=\"runbookengine-run\" href=\"{WebUtility.HtmlEncode(RootOf(dto.Page.Url.To("/")))}/runs/{WebUtility.HtmlEncode(Uri.EscapeDataString(runId))}\">{WebUtility.HtmlEncode(runId)}</a>: its steps, toil and alert are on its page.</div>")
                    : new NonEscapedString(string.Empty));
        }

        return app.UseHangfireDashboard(Path, new DashboardOptions
        {
            DashboardTitle = "RunbookEngine · Hangfire",
            AppPath = "/",

            // Let through by the gate above; what remains is who may change things.
            Authorization = [new Admitted()],
            IsReadOnlyFunc = context => AccessIdentity.Name(context.GetHttpContext().User) is null,
        }, new LazyStorage(app.ApplicationServices.GetRequiredService<Func<JobStorage>>()));
    }

    // The dashboard's base is "/hangfire"; our pages are at the host's root.
    private static string RootOf(string dashboardRoot)
    {
        var root = dashboardRoot.TrimEnd('/');
        return root.EndsWith(Path, StringComparison.Ordinal) ? root[..^Path.Length] : root;
    }

    private static Func<string, string?> RunbookNames(IRunStore store)
    {
        // The lists name a page of jobs at a time; a run's runbook never changes, so each is read once.
        var known = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        return runId =>
        {
            if (known.TryGetValue(runId, out var runbook))
            {
                return runbook;
            }

            if (store.GetRunAsync(runId, CancellationToken.None).GetAwaiter().GetResult() is not { } run)
            {
                return null;
            }

            if (known.Count > 10_000)
            {
                known.Clear();
            }

            return known[runId] = run.Runbook;
        };
    }

    private sealed class Admitted : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.Identity?.IsAuthenticated == true;
    }

    /// <summary>
    /// The host's storage, built on first use: the dashboard is set up as the host starts, when the database may still
    /// be away, and a PostgreSQL storage connects as it is built.
    /// </summary>
    private sealed class LazyStorage(Func<JobStorage> storage) : JobStorage
    {
        public override IMonitoringApi GetMonitoringApi() => storage().GetMonitoringApi();

        public override IStorageConnection GetConnection() => storage().GetConnection();

        public override IStorageConnection GetReadOnlyConnection() => storage().GetReadOnlyConnection();

        public override bool HasFeature(string featureId) => storage().HasFeature(featureId);

        public override bool LinearizableReads => storage().LinearizableReads;

        public override string ToString() => storage().ToString() ?? base.ToString()!;
    }
}
