using RunbookEngine.Access;
using RunbookEngine.Dashboard;
using RunbookEngine.Host.Access;
using RunbookEngine.Host.Api;
using RunbookEngine;
using RunbookEngine.Host.Telemetry;
using RunbookEngine.Hosting;
using RunbookEngine.Scheduling;

// `--run-cases=FOLDER`: this process runs a pull request's test cases for its check, away from the runs this host serves,
// configured by its command line alone: the host's appsettings and environment are not the pull request's to read.
if (RunbookEngine.Trust.Testing.ChildCases.IsRequested(args))
{
    Environment.Exit(await RunbookEngine.Trust.Testing.ChildCases.MainAsync(new ConfigurationBuilder().AddCommandLine(args).Build()));
}

// appsettings.json ships beside the binary; runbooks/ and data/ are resolved from the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

// `--execute-run=ID`: this process is one run's process (isolation: process), started by a host with its configuration.
if (builder.Configuration[RunbookEngine.Execution.ChildRun.RunKey] is { Length: > 0 })
{
    using var childTracing = HostTelemetry.ChildRunTracing(builder.Configuration);
    Environment.Exit(await RunbookEngine.Execution.ChildRun.MainAsync(builder.Configuration, childTracing is null ? null : new Action(() => OpenTelemetry.Trace.TracerProviderExtensions.ForceFlush(childTracing, HostTelemetry.ChildFlushMilliseconds))));
}

builder.AddRunbookLogging();
builder.AddRunbookTracing();
builder.Services.AddRunbookEngine(builder.Configuration);

// The hard stop must come after the runs' shutdown grace, the time a run's own process (isolation: process) gets to
// record its steps once told to stop, and the seconds an interrupted run needs to go back to the queue; otherwise the
// grace is a promise the host cannot keep.
var engine = builder.Configuration.GetSection(RunbookEngineOptions.Section).Get<RunbookEngineOptions>() ?? new RunbookEngineOptions();
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = engine.ShutdownGrace + engine.Execution.ProcessKillGrace + TimeSpan.FromSeconds(15));
builder.Services.AddRunbookAccess(engine);
builder.Services.AddRunbookApi();

var app = builder.Build();
app.UseRunbookAccess(engine);

// Health checks and webhooks are open: senders prove themselves with their own credentials, per source.
var open = app.MapGroup("").AllowAnonymous();
open.MapHealthEndpoints();
open.MapWebhookEndpoints();
open.MapSlackInteractions();

var api = app.MapGroup("").RequireAuthorization(AccessIdentity.ApiPolicy);
api.MapRunbookApi();
api.MapAlertApi();
api.MapIncidentApi();
api.MapCatalogApi();
api.MapToilApi();
api.MapTrustApi();
api.MapGameDayApi();
api.MapNotificationApi();
api.MapSloApi();

app.MapGroup("").RequireAuthorization(AccessIdentity.DashboardPolicy).MapRunbookDashboard();
app.UseRunbookHangfireDashboard();
app.Run();

/// <summary>The host's entry point, visible to the integration tests' WebApplicationFactory.</summary>
public partial class Program;
