using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace RunbookEngine.Benchmarks.Runs;

/// <summary>
/// Quartz alone on the same PostgreSQL, configured as the engine configures it (clustered ADO store, the same idle
/// wait, check-in, thread pool, lock-free inserts and RequestRecovery): its no-op jobs per second is the ceiling our
/// runs per second sit under.
/// </summary>
internal sealed class RawQuartz : IRawScheduler
{
    private readonly ServiceProvider _provider;
    private readonly IScheduler _scheduler;

    private RawQuartz(ServiceProvider provider, IScheduler scheduler)
    {
        _provider = provider;
        _scheduler = scheduler;
    }

    public string Name => "raw Quartz";

    public static async Task<RawQuartz> StartAsync(string connectionString, int threads)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = "rawquartz";
                o.InstanceId = "raw-0";
                o.IdleWaitTime = TimeSpan.FromSeconds(1);
            });
            q.UseDefaultThreadPool(threads);
            q.UsePersistentStore(store =>
            {
                store.UsePostgres(connectionString);
                store.ConfigureStore(o => o.LockOnInsert = false);
                store.UseClustering(c =>
                {
                    c.CheckinInterval = TimeSpan.FromSeconds(1);
                    c.CheckinMisfireThreshold = TimeSpan.FromSeconds(2);
                });
                store.ProvisionSchema();
            });
        });
        var provider = services.BuildServiceProvider();
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.Start();
        return new RawQuartz(provider, scheduler);
    }

    public async Task EnqueueAsync(string id, CancellationToken cancellationToken)
    {
        var job = JobBuilder.Create<NoopJob>().WithIdentity(id, "runs").RequestRecovery().Build();
        var trigger = TriggerBuilder.Create().WithIdentity(id, "runs").StartNow().Build();
        await _scheduler.ScheduleJob(job, trigger, default, cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await _scheduler.Shutdown(waitForJobsToComplete: true);
        await _provider.DisposeAsync();
    }

    private sealed class NoopJob : IJob
    {
        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            Countdown.Ran();
            return ValueTask.CompletedTask;
        }
    }
}
