using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Quartz;

namespace RunbookEngine.Benchmarks.Runs;

/// <summary>
/// Quartz alone on the same PostgreSQL, configured as the engine configures it (clustered ADO store, the same idle
/// wait, check-in, thread pool, lock-free inserts and RequestRecovery): its no-op jobs per second is the ceiling our
/// runs per second sit under.
/// </summary>
internal static class RawQuartz
{
    public static async Task<(double JobsPerSecond, double Seconds)> MeasureAsync(string connectionString, int jobs, int senders, int threads)
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
        await using var provider = services.BuildServiceProvider();
        var scheduler = await provider.GetRequiredService<ISchedulerFactory>().GetScheduler();
        await scheduler.Start();

        await RunBatchAsync(scheduler, "warm", 50, senders);
        var clock = Stopwatch.StartNew();
        await RunBatchAsync(scheduler, "measured", jobs, senders);
        var seconds = clock.Elapsed.TotalSeconds;
        await scheduler.Shutdown(waitForJobsToComplete: true);
        return (jobs / seconds, seconds);
    }

    private static async Task RunBatchAsync(IScheduler scheduler, string batch, int jobs, int senders)
    {
        NoopJob.Expect(jobs);
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = senders }, async (i, ct) =>
        {
            var id = $"{batch}-{i}";
            var job = JobBuilder.Create<NoopJob>().WithIdentity(id, "runs").RequestRecovery().Build();
            var trigger = TriggerBuilder.Create().WithIdentity(id, "runs").StartNow().Build();
            await scheduler.ScheduleJob(job, trigger, default, ct);
        });
        await NoopJob.AllDone.WaitAsync(TimeSpan.FromMinutes(5));
    }

    private sealed class NoopJob : IJob
    {
        private static int _remaining;
        private static TaskCompletionSource _done = new();

        public static Task AllDone => _done.Task;

        public static void Expect(int jobs)
        {
            _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _remaining, jobs);
        }

        public ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
        {
            if (Interlocked.Decrement(ref _remaining) == 0)
            {
                _done.TrySetResult();
            }

            return ValueTask.CompletedTask;
        }
    }
}
