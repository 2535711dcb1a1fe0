using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Scheduling;

/// <summary>
/// Hangfire as the engine's scheduler: storage, client, recurring job manager and this node's server, each an
/// instance owned by the host (several hosts may share a process, as the tests' do), never Hangfire's statics.
/// </summary>
internal static class HangfireScheduler
{
    /// <summary>Hangfire's tables live in a schema of their own, apart from the run store's.</summary>
    public const string Schema = "hangfire";

    public static IServiceCollection AddRunbookScheduler(this IServiceCollection services, RunbookEngineOptions options)
    {
        // Built on first use, not at registration: PostgreSQL storage connects (and creates its schema) as it is built,
        // and the host must start, answering /readyz with 503, while the database is away.
        services.AddSingleton<JobStorage>(provider => CreateStorage(provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value));
        services.AddSingleton<JobActivator>(provider => new ServiceJobActivator(provider));
        services.AddSingleton<IBackgroundJobClient>(provider => new BackgroundJobClient(provider.GetRequiredService<JobStorage>()));
        services.AddSingleton<IRecurringJobManager>(provider => new RecurringJobManager(provider.GetRequiredService<JobStorage>()));
        services.AddSingleton<Func<JobStorage>>(provider => provider.GetRequiredService<JobStorage>);
        services.AddSingleton<Func<IBackgroundJobClient>>(provider => provider.GetRequiredService<IBackgroundJobClient>);
        services.AddSingleton<Func<IRecurringJobManager>>(provider => provider.GetRequiredService<IRecurringJobManager>);

        // Hangfire's own registrations (the dashboard's routes, its filter providers) find ours above and keep them.
        // The serializer settings are process-wide, and the same for every host.
        services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());

        services.AddSingleton<RunClaims>();
        services.AddSingleton<StoreHealth>();
        services.AddSingleton<IRunDispatcher, HangfireRunDispatcher>();
        services.AddTransient(provider => new RunJob(
            provider.GetRequiredService<Runs.RunLifecycle>(), provider.GetRequiredService<IRunDispatcher>(), provider.GetRequiredService<StoreHealth>()));
        services.AddTransient(provider => new ScheduledRunJob(
            provider.GetRequiredService<Runs.RunService>(), provider.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ScheduledRunJob>>()));
        if (options.ExecutesRuns)
        {
            services.AddHostedService<ClaimHeartbeat>();
            services.AddSingleton<HangfireServer>();
            services.AddHostedService(provider => provider.GetRequiredService<HangfireServer>());
            services.AddSingleton<ISchedulerStatus>(provider => provider.GetRequiredService<HangfireServer>());
        }

        // Every node watches for lost dispatches, as every node dispatches.
        services.AddHostedService<RunWatchdog>();
        return services;
    }

    private static JobStorage CreateStorage(RunbookEngineOptions options)
    {
        if (!options.UsesPostgres)
        {
            // The embedded default. Hangfire.Storage.SQLite was measured (docs/benchmarks.md): durable only with an
            // invisibility timeout longer than the longest run, since it cannot renew one, and one process per file.
            // In memory, the run store stays the one source of truth: a restart loses only jobs, and the watchdog
            // dispatches the store's queued, running and due runs again as the node starts.
            return new InMemoryStorage(new InMemoryStorageOptions { IdType = InMemoryStorageIdType.Long });
        }

        var storageOptions = new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            PrepareSchemaIfNecessary = true,

            // Polling, not LISTEN/NOTIFY: long polling was implicated in jobs fetched and never run (HANGFIRE.md), and
            // 200 ms bounds a cross-node pickup at p99 175-205 ms, inside the 250 ms goal. A job enqueued on the node
            // that runs it wakes a worker at once anyway. 50 ms is the floor; each poll is one query per idle worker.
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            EnableLongPolling = false,

            // Renewed about once a second while a run executes, so a run longer than the timeout is not delivered again.
            // Recovery after a crash does not wait for it: the watchdog finds the dead claim within the claim lease plus
            // a second. It only bounds how soon Hangfire delivers a dead node's job again, which then steps back.
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = TimeSpan.FromSeconds(10),

            // Frees a Hangfire lock orphaned by a kill -9 (a job's state lock) in seconds instead of 10 minutes. No engine
            // guarantee rests on Hangfire's locks: concurrency keys and claims live in the run store.
            DistributedLockTimeout = TimeSpan.FromSeconds(10),
        };
        return new PostgreSqlStorage(new NpgsqlConnectionFactory(WithApplicationName(options.ConnectionString!), storageOptions), storageOptions);
    }

    // A pool apart from the run store's, so Hangfire's pollers never take the connections a run's journal writes need.
    private static string WithApplicationName(string connectionString) =>
        new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { ApplicationName = "runbookengine-hangfire" }.ConnectionString;

    /// <summary>Resolves jobs from the host's services (each host its own), not from Hangfire's process-wide activator.</summary>
    private sealed class ServiceJobActivator(IServiceProvider provider) : JobActivator
    {
        public override object ActivateJob(Type jobType) => provider.GetRequiredService(jobType);
    }
}

/// <summary>
/// This node's Hangfire server: <see cref="RunbookEngineOptions.MaxConcurrentRuns"/> workers, started once the host
/// has started (the store migrated and the catalog loaded) and stopped after the runs drained.
/// </summary>
internal sealed partial class HangfireServer(IServiceProvider provider, IOptions<RunbookEngineOptions> options, NodeIdentity node, IHostApplicationLifetime lifetime, TimeProvider time, Microsoft.Extensions.Logging.ILogger<HangfireServer> logger) : IHostedService, ISchedulerStatus, IDisposable
{
    private readonly object _gate = new();
    private BackgroundJobServer? _server;
    private CancellationTokenRegistration _started;
    private bool _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // After ApplicationStarted: jobs run only once every hosted service (the store, the catalog) is up.
        _started = lifetime.ApplicationStarted.Register(() => _ = StartWhenStorageAnswersAsync());
        return Task.CompletedTask;
    }

    private async Task StartWhenStorageAnswersAsync()
    {
        for (var tries = 0; ; tries++)
        {
            try
            {
                var server = Create();
                lock (_gate)
                {
                    if (_stopping)
                    {
                        server.Dispose();
                        return;
                    }

                    _server = server;
                }

                return;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The database went away between the migration and now; the watchdog keeps runs safe meanwhile.
                if (tries == 0)
                {
                    LogStartFailed(ex);
                }

                await Task.Delay(TimeSpan.FromSeconds(1), time, lifetime.ApplicationStopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (lifetime.ApplicationStopping.IsCancellationRequested)
                {
                    return;
                }
            }
        }
    }

    [Microsoft.Extensions.Logging.LoggerMessage(EventId = 320, Level = Microsoft.Extensions.Logging.LogLevel.Error, Message = "This node's Hangfire server could not start; trying again every second")]
    private partial void LogStartFailed(Exception exception);

    public bool IsRunning
    {
        get
        {
            lock (_gate)
            {
                return _server is not null && !_stopping;
            }
        }
    }

    private BackgroundJobServer Create()
    {
        var o = options.Value;
        return new BackgroundJobServer(
            new BackgroundJobServerOptions
            {
                ServerName = node.Id,

                // A run holds its worker while its steps run (a run resting on a person holds none): this is how many
                // runs the node executes at once.
                WorkerCount = o.MaxConcurrentRuns,

                // Delayed jobs (a retry after its backoff, a person's deadline) and schedules' occurrences are found
                // within a second; Hangfire's default is 15 s.
                SchedulePollingInterval = TimeSpan.FromSeconds(1),

                // The engine drains its own runs (ShutdownGrace, then hands them back to the queue); Hangfire waits for
                // that, and a kill's margin beyond it.
                ShutdownTimeout = o.ShutdownGrace + o.Execution.ProcessKillGrace + TimeSpan.FromSeconds(10),
                Activator = provider.GetRequiredService<JobActivator>(),
            },
            provider.GetRequiredService<JobStorage>());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        BackgroundJobServer? server;
        lock (_gate)
        {
            _stopping = true;
            server = _server;
        }

        if (server is not null)
        {
            server.SendStop();
            await server.WaitForShutdownAsync(cancellationToken);
        }
    }

    public void Dispose()
    {
        _started.Dispose();
        _server?.Dispose();
    }
}

/// <summary>Whether this node's scheduler executes runs now, for readiness.</summary>
public interface ISchedulerStatus
{
    /// <summary>True once the node's scheduler server runs, until it stops.</summary>
    bool IsRunning { get; }
}
