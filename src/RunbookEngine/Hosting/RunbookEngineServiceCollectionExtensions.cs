using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RunbookEngine.Access;
using RunbookEngine.Alerts;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scheduling;
using RunbookEngine.Slos;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Notifications;
using RunbookEngine.Retention;
using RunbookEngine.Storage;
using RunbookEngine.Telemetry;
using RunbookEngine.Toil;
using RunbookEngine.Trust.Drills;
using RunbookEngine.Trust.Freshness;
using RunbookEngine.Trust.GameDays;

namespace RunbookEngine.Hosting;

/// <summary>Registers the engine: <c>services.AddRunbookEngine(configuration)</c>.</summary>
public static class RunbookEngineServiceCollectionExtensions
{
    /// <summary>Adds the run store, catalog, scheduler and run services, configured from the <c>RunbookEngine</c> section.</summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration root.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddRunbookEngine(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RunbookEngineOptions>()
            .Bind(configuration.GetSection(RunbookEngineOptions.Section))
            .Validate(o => o.Storage is "sqlite" or "postgres", "RunbookEngine:Storage must be sqlite or postgres")
            .Validate(o => o.Incidents.Rules.All(r => Incidents.IncidentOptions.KnownRules.Contains(r)), "RunbookEngine:Incidents:Rules takes group-key, pagerduty-incident, fingerprint and labels, in the order they take precedence")
            .Validate(
                o => o.Incidents.Labels.All(l => !string.IsNullOrWhiteSpace(l)) && o.Incidents.Rules.Distinct().Count() == o.Incidents.Rules.Count,
                "RunbookEngine:Incidents:Labels may not name an empty label, and RunbookEngine:Incidents:Rules may not name a rule twice")
            .Validate(o => o.Incidents.LabelWindow >= TimeSpan.FromSeconds(1) && o.Incidents.LabelWindow <= TimeSpan.FromDays(7), "RunbookEngine:Incidents:LabelWindow must be between 00:00:01 and 7.00:00:00, e.g. 00:30:00")
            .Validate(o => !o.UsesPostgres || !string.IsNullOrWhiteSpace(o.ConnectionString), "RunbookEngine:Storage is postgres, so RunbookEngine:ConnectionString must be set")
            .Validate(o => o.MaxConcurrentRuns is > 0 and <= 1000, "RunbookEngine:MaxConcurrentRuns must be between 1 and 1000")
            .Validate(o => o.Alerts.MaxBodyBytes is >= 1024 and <= 64L * 1024 * 1024, "RunbookEngine:Alerts:MaxBodyBytes must be between 1 KiB and 64 MiB")
            .Validate(
                o => o.Alerts.Sources.All(s => s.Value.HmacSecrets.Count == 0 || s.Key is "grafana" or "pagerduty"),
                "RunbookEngine:Alerts:Sources: only grafana and pagerduty sign their webhooks; use BearerToken or BasicUser for the others")
            .Validate(
                o => o.Alerts.Sources.Keys.All(k => Alerts.Sources.AlertSources.Find(k) is not null),
                "RunbookEngine:Alerts:Sources: unknown source; use alertmanager, grafana, pagerduty, datadog, opsgenie, azure-monitor, aws-sns or generic")
            .Validate(o => o.Alerts.Breaker.MaxRuns > 0 && o.Alerts.Breaker.MaxFailures > 0 && o.Alerts.Breaker.Window > TimeSpan.Zero && o.Alerts.Breaker.OpenFor > TimeSpan.Zero,
                "RunbookEngine:Alerts:Breaker: MaxRuns, MaxFailures, Window and OpenFor must be positive")
            .Validate(o => o.Alerts.AwsSns.FetchTimeout >= TimeSpan.FromMilliseconds(100) && o.Alerts.AwsSns.FetchTimeout <= TimeSpan.FromSeconds(60), "RunbookEngine:Alerts:AwsSns:FetchTimeout must be between 100 ms and 60 s")
            .Validate(
                o => o.Alerts.AwsSns.TopicArns.All(t => t.StartsWith("arn:aws", StringComparison.Ordinal) && t.Split(':').Length == 6 && t.Split(':')[2] == "sns"),
                "RunbookEngine:Alerts:AwsSns:TopicArns takes topic ARNs (arn:aws:sns:REGION:ACCOUNT:NAME)")
            .Validate(
                o => o.Alerts.AwsSns.TestOnlyAllowedUrlPrefixes.All(Alerts.AwsSnsReceiver.IsLoopbackPrefix),
                "RunbookEngine:Alerts:AwsSns:TestOnlyAllowedUrlPrefixes is for tests: each must be an http(s) URL on a loopback address ending in / (e.g. http://127.0.0.1:5123/)")
            .Validate(o => o.Catalog.Source is "folder" or "git" or "github", "RunbookEngine:Catalog:Source must be folder, git or github")
            .Validate(o => o.Catalog.Source != "github" || o.GitHub.OwnerAndName() is not null, "RunbookEngine:Catalog:Source is github, so RunbookEngine:GitHub:Repository must be set (owner/name), with RunbookEngine:GitHub:Token or a GitHub App")
            .Validate(o => o.Catalog.Source != "git" || !string.IsNullOrWhiteSpace(o.Catalog.Git.Url), "RunbookEngine:Catalog:Source is git, so RunbookEngine:Catalog:Git:Url must be set")
            .Validate(o => o.Catalog.Git.FetchInterval >= TimeSpan.FromSeconds(1), "RunbookEngine:Catalog:Git:FetchInterval must be at least 1 second")
            .Validate(o => !o.Catalog.Git.Path.Contains("..", StringComparison.Ordinal) && !Path.IsPathRooted(o.Catalog.Git.Path), "RunbookEngine:Catalog:Git:Path must be a folder inside the repository")
            .Validate(o => o.ShutdownGrace >= TimeSpan.Zero && o.ShutdownGrace <= TimeSpan.FromHours(1), "RunbookEngine:ShutdownGrace must be between 0 and 1 hour")
            .Validate(o => o.Retention.MaxAge == TimeSpan.Zero || o.Retention.MaxAge >= TimeSpan.FromDays(1), "RunbookEngine:Retention:MaxAge must be at least 1 day (e.g. 90.00:00:00), or 0 to keep history forever")
            .Validate(o => o.Retention.Interval >= TimeSpan.FromMinutes(1), "RunbookEngine:Retention:Interval must be at least 1 minute")
            .Validate(o => o.Retention.BatchSize is >= 1 and <= 10_000, "RunbookEngine:Retention:BatchSize must be between 1 and 10000")
            .Validate(o => o.Retention.Pause >= TimeSpan.Zero && o.Retention.Pause <= TimeSpan.FromMinutes(1), "RunbookEngine:Retention:Pause must be between 0 and 1 minute")
            .Validate(o => o.Execution.ProcessMemoryLimitMiB is >= 128 and <= 1024 * 1024, "RunbookEngine:Execution:ProcessMemoryLimitMiB must be between 128 and 1048576")
            .Validate(o => o.Execution.ProcessKillGrace > TimeSpan.Zero && o.Execution.ProcessKillGrace <= TimeSpan.FromMinutes(10), "RunbookEngine:Execution:ProcessKillGrace must be more than 0 and at most 10 minutes")
            .Validate(o => o.Execution.MaxLogCharactersPerRun >= 1024, "RunbookEngine:Execution:MaxLogCharactersPerRun must be at least 1024")
            .Validate(o => !(o.Access.TrustLoopback && o.Access.AllowedHosts.Contains("*")), "RunbookEngine:Access:AllowedHosts is *, so any web page whose name points at this machine could use it as a trusted loopback caller; list the host names, or turn RunbookEngine:Access:TrustLoopback off")
            .Validate(
                o => o.Access.AllowedHosts.All(h => h.Length > 0 && !h.Contains('/', StringComparison.Ordinal) && (h.StartsWith('[') || !h.Contains(':', StringComparison.Ordinal))),
                "RunbookEngine:Access:AllowedHosts takes host names without scheme or port (e.g. runbooks.example.com, proxy); any port of a listed name is allowed")
            .Validate(o => o.Access.KnownProxies.All(p => System.Net.IPAddress.TryParse(p, out _)), "RunbookEngine:Access:KnownProxies takes IP addresses (e.g. 10.0.0.5)")
            .Validate(o => o.Access.SignInLifetime >= TimeSpan.FromMinutes(1), "RunbookEngine:Access:SignInLifetime must be at least 1 minute")
            .Validate(o => o.Trust.ShadowToConfirmAfter >= 1 && o.Trust.ConfirmToAutoAfter >= 1, "RunbookEngine:Trust:ShadowToConfirmAfter and ConfirmToAutoAfter must be at least 1 (how many agreed proposals, or approvals, in a row before a promotion is suggested)")
            .Validate(o => o.Trust.ListCacheFor >= TimeSpan.Zero && o.Trust.ListCacheFor <= TimeSpan.FromMinutes(10), "RunbookEngine:Trust:ListCacheFor must be between 00:00:00 (read on every request) and 00:10:00")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<RunbookEngineOptions>, CustomSourcesValidation>();
        services.AddSingleton<IValidateOptions<RunbookEngineOptions>, GitHub.GitHubValidation>();

        var options = configuration.GetSection(RunbookEngineOptions.Section).Get<RunbookEngineOptions>() ?? new RunbookEngineOptions();
        var nodeId = string.IsNullOrWhiteSpace(options.NodeId) ? $"{Environment.MachineName}-{Environment.ProcessId}" : options.NodeId;

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new NodeIdentity(nodeId));
        services.AddSingleton<IRunStore>(provider =>
        {
            var o = provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value;
            var time = provider.GetRequiredService<TimeProvider>();
            return o.UsesPostgres ? SqlRunStore.Postgres(o.ConnectionString!, time) : SqlRunStore.Sqlite(Path.Combine(o.DataPath, "runs.db"), time);
        });
        services.AddSingleton<IAlertStore>(provider => (IAlertStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton<IIncidentStore>(provider => (IIncidentStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton(provider => new RunbookCompiler(Path.Combine(provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value.DataPath, "compiled")));
        services.AddSingleton<IVersionStore>(provider => (IVersionStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton<IToilStore>(provider => (IToilStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton<ITrustStore>(provider => (ITrustStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton<IKeyRingStore>(provider => (IKeyRingStore)provider.GetRequiredService<IRunStore>());
        // Each host its own registry, never prometheus-net's static default: hosts sharing a process (the tests start
        // several) must not count into one another's /metrics.
        services.AddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
        services.AddSingleton(provider =>
        {
            var metrics = new EngineMetrics(provider.GetRequiredService<Prometheus.CollectorRegistry>(), provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<EngineMetrics>>());
            metrics.Registry.AddBeforeCollectCallback(ct => metrics.ReadClusterAsync(provider.GetRequiredService<IToilStore>(), provider.GetRequiredService<CircuitBreakers>(), ct));
            metrics.Registry.AddBeforeCollectCallback(ct => metrics.ReadFreshnessAsync(provider.GetRequiredService<Trust.Freshness.FreshnessReader>(), ct));
            var slos = provider.GetRequiredService<Slos.SloMetrics>();
            metrics.Registry.AddBeforeCollectCallback(() => slos.Read(provider.GetRequiredService<Slos.SloBudgets>()));
            return metrics;
        });
        services.AddSingleton<ToilReports>();
        services.AddSingleton<Incidents.IncidentBudgets>();
        services.AddSingleton<Incidents.IncidentReport>();
        services.AddHttpClient(AwsSnsReceiver.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new System.Net.Http.SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton<AwsSnsReceiver>();
        services.AddSingleton<IRunbookSourceProvider>(provider =>
        {
            var o = provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value;
            var git = new GitCli(GitCli.WriteAskPass(Path.Combine(o.DataPath, "git")), () => (o.Catalog.Git.Username,
                o.Catalog.Git.PasswordFile is { Length: > 0 } file ? File.ReadAllText(file).Trim() : o.Catalog.Git.Password));
            return o.Catalog.Source.ToLowerInvariant() switch
            {
                "git" => new GitRemoteSource(o.Catalog.Git, o.DataPath, git),
                "github" => new GitHubApiSource(o.GitHub, o.Catalog.Git, o.DataPath, provider.GetRequiredService<TimeProvider>(), provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<GitHubApiSource>>()),
                _ => new FolderSource(Path.GetFullPath(o.RunbooksPath), git),
            };
        });
        services.AddSingleton(provider => new RunbookCatalog(
            provider.GetRequiredService<IRunbookSourceProvider>(),
            provider.GetRequiredService<RunbookCompiler>(),
            provider.GetRequiredService<IVersionStore>(),
            provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value.DataPath,
            provider.GetRequiredService<TimeProvider>(),
            provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<RunbookCatalog>>())
        {
            KnowsSlo = provider.GetRequiredService<SloBudgets>().Knows,
        });
        services.AddSingleton<CatalogFollower>();
        services.AddSingleton<GitHub.GitHubChecks>();
        services.AddHostedService(provider => provider.GetRequiredService<GitHub.GitHubChecks>());
        services.AddSingleton<Trust.Testing.CaseProcess>();
        services.AddSingleton<GitHub.PullRequestChecks>();
        services.AddHostedService(provider => provider.GetRequiredService<GitHub.PullRequestChecks>());
        services.AddSingleton<RunEvents>();
        services.AddSingleton<ShutdownDrain>();
        services.AddSingleton<RunService>();
        services.AddSingleton<StoreRetry>();
        services.AddSingleton<Execution.ProcessExecution>();
        services.AddSingleton<HumanSteps>();
        services.AddSingleton<Trust.Modes.TrustRecords>();
        services.AddSingleton<Trust.Modes.ProposalVerdicts>();
        services.AddSingleton<RunLifecycle>();
        services.AddSingleton<ScheduleSync>();
        services.AddRunbookDrills();
        services.AddRunbookFreshness();
        services.AddSingleton<EngineStartup>();
        services.AddHostedService(provider => provider.GetRequiredService<EngineStartup>());
        // After the startup that migrates the store: Data Protection's own hosted service reads the key ring as it starts.
        services.AddRunbookDataProtection(options);
        services.AddHostedService<LegacySecretSealing>();

        services.AddRunbookScheduler(options);
        services.AddHostedService(provider => provider.GetRequiredService<CatalogFollower>());
        services.AddSingleton<CircuitBreakers>();
        services.AddSingleton<AlertDispatcher>();
        services.AddHostedService(provider => provider.GetRequiredService<AlertDispatcher>());
        services.AddSingleton<AlertIngest>();
        services.AddSingleton<WebhookAuthenticator>();
        services.AddSingleton<Alerts.Sources.CustomAlertSources>();
        services.AddRunbookTelemetry();
        services.AddRunbookRetention();
        services.AddRunbookGameDays();
        services.AddRunbookNotifications();
        services.AddRunbookSlos();
        return services;
    }

    // Its own validator because each problem names its own setting, which a fixed Validate message cannot.
    private sealed class CustomSourcesValidation : IValidateOptions<RunbookEngineOptions>
    {
        public ValidateOptionsResult Validate(string? name, RunbookEngineOptions options) =>
            Alerts.Sources.CustomAlertSources.Problems(options).Concat(Alerts.Sources.FieldMappedSource.Problems(options)).ToList() is { Count: > 0 } problems
                ? ValidateOptionsResult.Fail(problems)
                : ValidateOptionsResult.Success;
    }
}
