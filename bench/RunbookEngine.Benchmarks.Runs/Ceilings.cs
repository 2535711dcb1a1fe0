using System.Diagnostics;
using System.Globalization;

namespace RunbookEngine.Benchmarks.Runs;

/// <summary>A scheduler alone, without the engine, that runs the <see cref="Countdown"/>'s no-op job once per enqueue.</summary>
internal interface IRawScheduler : IAsyncDisposable
{
    /// <summary>The name the figures are printed under.</summary>
    string Name { get; }

    /// <summary>Stores a one-shot job to run now; returns once the scheduler has committed it.</summary>
    /// <param name="id">Unique within the scheduler's lifetime.</param>
    /// <param name="cancellationToken">Cancels the enqueue.</param>
    /// <returns>A task.</returns>
    Task EnqueueAsync(string id, CancellationToken cancellationToken);
}

/// <summary>What one scheduler did in one round.</summary>
/// <param name="Name">The scheduler's name.</param>
/// <param name="Jobs">Jobs enqueued for the throughput figure.</param>
/// <param name="Executed">Of those, how many ran before the wait gave up.</param>
/// <param name="Seconds">First enqueue to last execution.</param>
/// <param name="ThroughputLoad">The 1-minute load average when the throughput batch ended.</param>
/// <param name="Latencies">Enqueue to execution (ms), sorted; jobs that never ran are left out and counted in <paramref name="Missed"/>.</param>
/// <param name="Missed">Latency jobs that did not run within the wait.</param>
/// <param name="LatencyLoad">The 1-minute load average when the latency jobs ended.</param>
internal sealed record CeilingRound(string Name, int Jobs, int Executed, double Seconds, double ThroughputLoad, IReadOnlyList<double> Latencies, int Missed, double LatencyLoad)
{
    public double JobsPerSecond => Executed / Seconds;
}

/// <summary>
/// The same measurement for every raw scheduler, so their figures compare: 50 warm-up jobs, then a batch from concurrent
/// senders timed from the first enqueue to the last execution, then jobs one at a time timed from just before the enqueue
/// to the job running (same process, so one clock).
/// </summary>
internal static class Ceilings
{
    private static readonly TimeSpan BatchWait = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan SingleWait = TimeSpan.FromSeconds(20);

    public static async Task<CeilingRound> MeasureAsync(IRawScheduler scheduler, int jobs, int senders, int latencySamples)
    {
        await BatchAsync(scheduler, "warm", 50, senders);
        var (executed, seconds) = await BatchAsync(scheduler, "measured", jobs, senders);
        var throughputLoad = LoadAverage();

        var latencies = new List<double>();
        var missed = 0;
        for (var i = 0; i < latencySamples; i++)
        {
            var countdown = Countdown.Start(1);
            var sent = Stopwatch.GetTimestamp();
            await scheduler.EnqueueAsync($"latency-{i}", default);
            if (await Task.WhenAny(countdown.LastRanAt, Task.Delay(SingleWait)) == countdown.LastRanAt)
            {
                latencies.Add(Stopwatch.GetElapsedTime(sent, await countdown.LastRanAt).TotalMilliseconds);
            }
            else
            {
                missed++;
            }
        }

        latencies.Sort();
        return new CeilingRound(scheduler.Name, jobs, executed, seconds, throughputLoad, latencies, missed, LoadAverage());
    }

    /// <summary>The 1-minute load average from /proc/loadavg, or NaN where there is none.</summary>
    /// <returns>The load average.</returns>
    public static double LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return double.NaN;
        }
    }

    private static async Task<(int Executed, double Seconds)> BatchAsync(IRawScheduler scheduler, string batch, int jobs, int senders)
    {
        var countdown = Countdown.Start(jobs);
        var started = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(Enumerable.Range(0, jobs), new ParallelOptions { MaxDegreeOfParallelism = senders }, async (i, ct) =>
            await scheduler.EnqueueAsync($"{batch}-{i}", ct));
        // A job fetched but never run (HANGFIRE.md, risk 3) must show as a count, not hang the benchmark.
        if (await Task.WhenAny(countdown.LastRanAt, Task.Delay(BatchWait)) == countdown.LastRanAt)
        {
            return (jobs, Stopwatch.GetElapsedTime(started, await countdown.LastRanAt).TotalSeconds);
        }

        return (jobs - countdown.Remaining, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}

/// <summary>
/// The jobs of the batch being measured. Static because neither Quartz's no-op job nor Hangfire's static method job has
/// another way back to the benchmark without a job activator; rounds run one after another, so one batch at a time.
/// </summary>
internal sealed class Countdown
{
    private static Countdown? _current;
    private readonly TaskCompletionSource<long> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining;

    private Countdown(int jobs) => _remaining = jobs;

    /// <summary>The <see cref="Stopwatch"/> timestamp at which the last job of the batch ran.</summary>
    public Task<long> LastRanAt => _done.Task;

    public int Remaining => Volatile.Read(ref _remaining);

    public static Countdown Start(int jobs)
    {
        var countdown = new Countdown(jobs);
        Volatile.Write(ref _current, countdown);
        return countdown;
    }

    /// <summary>Called by the no-op jobs. A job of a batch that timed out, run late, counts towards the next batch; only a
    /// round with missed jobs can see that, and its figures say so.</summary>
    public static void Ran()
    {
        var countdown = Volatile.Read(ref _current);
        if (countdown is not null && Interlocked.Decrement(ref countdown._remaining) == 0)
        {
            countdown._done.TrySetResult(Stopwatch.GetTimestamp());
        }
    }
}
