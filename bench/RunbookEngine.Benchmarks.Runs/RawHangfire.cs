using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

namespace RunbookEngine.Benchmarks.Runs;

/// <summary>
/// Hangfire alone on the same PostgreSQL (its own schema in a database of its own), configured as the engine plausibly
/// will be after the move (settings from /work/shared/docs/HANGFIRE.md): its no-op jobs per second is the ceiling our
/// runs per second will sit under on Hangfire. Storage, client and server are instances, not GlobalConfiguration.
/// </summary>
internal sealed class RawHangfire : IRawScheduler
{
    private readonly BackgroundJobServer _server;
    private readonly BackgroundJobClient _client;

    private RawHangfire(string name, BackgroundJobServer server, BackgroundJobClient client)
    {
        Name = name;
        _server = server;
        _client = client;
    }

    public string Name { get; }

    public static RawHangfire Start(string connectionString, int workers, bool longPolling)
    {
        var storageOptions = new PostgreSqlStorageOptions
        {
            // Bounds cross-node pickup at 0.2 s (same-process enqueues wake a worker at once anyway); 50 ms is the floor.
            QueuePollInterval = TimeSpan.FromMilliseconds(200),
            // LISTEN/NOTIFY: the best cross-node latency, but extra connections per fetch and the "fetched, never run" hang.
            EnableLongPolling = longPolling,
            // Renewed about once a second while a job runs, so a run longer than the timeout is not delivered twice.
            UseSlidingInvisibilityTimeout = true,
            // With sliding renewal this is what recovery after kill -9 waits for (2.4-2.7 s measured), inside the 5 s target.
            InvisibilityTimeout = TimeSpan.FromSeconds(3),
            // Frees a state lock orphaned by kill -9 in seconds instead of 10 min; the engine keeps its own locks.
            DistributedLockTimeout = TimeSpan.FromSeconds(10),
            // Hangfire creates and migrates its own tables, in a schema apart from anything else in the database.
            SchemaName = "hangfire",
            PrepareSchemaIfNecessary = true,
        };
        var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connectionString, storageOptions), storageOptions);
        var serverOptions = new BackgroundJobServerOptions
        {
            // The engine's MaxConcurrentRuns, as raw Quartz's thread pool.
            WorkerCount = workers,
            // Delayed and recurring jobs are found within 1 s, which every-second crons need; the default is 15 s.
            SchedulePollingInterval = TimeSpan.FromSeconds(1),
            // Cluster-safe comes from the storage (row locks on fetch, servers known by heartbeat); a name per node shows who ran what.
            ServerName = longPolling ? "raw-hangfire-lp" : "raw-hangfire",
        };
        var server = new BackgroundJobServer(serverOptions, storage);
        return new RawHangfire(longPolling ? "raw Hangfire, long polling" : "raw Hangfire, 200 ms polling", server, new BackgroundJobClient(storage));
    }

    public Task EnqueueAsync(string id, CancellationToken cancellationToken)
    {
        // Hangfire's client is synchronous: the sender's thread waits for the commit, as a request thread in the engine would.
        _client.Enqueue(() => Noop.Run());
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _server.SendStop();
        await _server.WaitForShutdownAsync(CancellationToken.None);
        _server.Dispose();
    }

    /// <summary>A static method job: Hangfire needs no activator for it, and it must be public to be invoked.</summary>
    public static class Noop
    {
        // The engine will not let Hangfire retry: a failed run is the engine's to retry, or not.
        [AutomaticRetry(Attempts = 0)]
        public static void Run() => Countdown.Ran();
    }
}
