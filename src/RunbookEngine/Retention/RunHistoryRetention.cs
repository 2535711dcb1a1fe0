using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Storage;

namespace RunbookEngine.Retention;

/// <summary>
/// Deletes run history older than <see cref="RetentionOptions.MaxAge"/>, every <see cref="RetentionOptions.Interval"/>,
/// in short batches so runs keep writing meanwhile. In a cluster every node tries; the one that takes the lock works.
/// </summary>
public sealed partial class RunHistoryRetention(IRetentionStore store, IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<RunHistoryRetention> logger)
    : BackgroundService
{
    // Start-up (migrations, recovering runs, the catalog) goes first.
    private static readonly TimeSpan FirstPassAfter = TimeSpan.FromMinutes(1);

    /// <summary>
    /// One pass: runs first (so the alerts they held are free to go), then alerts, then the deliveries they came in,
    /// each in batches until a batch comes back short.
    /// </summary>
    /// <param name="cancellationToken">Stops between (or inside) batches; what was committed stays deleted.</param>
    /// <returns>What was deleted; <see cref="RetentionPass.Worked"/> is false when retention is off or another node holds the lock.</returns>
    public async Task<RetentionPass> PassAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Retention;
        if (!settings.Enabled)
        {
            return RetentionPass.Idle;
        }

        await using var held = await store.TryLockRetentionAsync(cancellationToken);
        if (held is null)
        {
            LogBusy();
            return RetentionPass.Idle;
        }

        var before = time.GetUtcNow() - settings.MaxAge;
        var started = time.GetTimestamp();
        int runs = 0, steps = 0, alerts = 0, deliveries = 0, runBatches = 0, alertBatches = 0, deliveryBatches = 0;
        while (true)
        {
            var (r, s) = await store.DeleteExpiredRunsAsync(before, settings.BatchSize, cancellationToken);
            (runs, steps, runBatches) = (runs + r, steps + s, runBatches + 1);
            if (r < settings.BatchSize)
            {
                break;
            }

            await PauseAsync(settings.Pause, cancellationToken);
        }

        while (true)
        {
            var a = await store.DeleteExpiredAlertsAsync(before, settings.BatchSize, cancellationToken);
            (alerts, alertBatches) = (alerts + a, alertBatches + 1);
            if (a < settings.BatchSize)
            {
                break;
            }

            await PauseAsync(settings.Pause, cancellationToken);
        }

        while (true)
        {
            var d = await store.DeleteExpiredDeliveriesAsync(before, settings.BatchSize, cancellationToken);
            (deliveries, deliveryBatches) = (deliveries + d, deliveryBatches + 1);
            if (d < settings.BatchSize)
            {
                break;
            }

            await PauseAsync(settings.Pause, cancellationToken);
        }

        // GitHub delivery ids go with the rest of the history: a replay of a push as old as the history kept is still
        // recognised, and one row per push is too little to deserve an age of its own.
        var gitHubDeliveries = 0;
        while (true)
        {
            var g = await store.DeleteExpiredGitHubDeliveriesAsync(before, settings.BatchSize, cancellationToken);
            gitHubDeliveries += g;
            if (g < settings.BatchSize)
            {
                break;
            }

            await PauseAsync(settings.Pause, cancellationToken);
        }

        // A commit's check claim is kept as long, so a sync of an old commit within the history does not post it twice.
        var gitHubChecks = 0;
        while (true)
        {
            var c = await store.DeleteExpiredGitHubChecksAsync(before, settings.BatchSize, cancellationToken);
            gitHubChecks += c;
            if (c < settings.BatchSize)
            {
                break;
            }

            await PauseAsync(settings.Pause, cancellationToken);
        }

        // Delivered and abandoned notifications are history like the runs they tell of.
        var notifications = 0;
        while (true)
        {
            var n = await store.DeleteExpiredNotificationsAsync(before, settings.BatchSize, cancellationToken);
            notifications += n;
            if (n < settings.BatchSize)
            {
                break;
            }

            await PauseAsync(settings.Pause, cancellationToken);
        }

        var pass = new RetentionPass(true, before, runs, steps, alerts, deliveries, runBatches, alertBatches, deliveryBatches, gitHubDeliveries, gitHubChecks, notifications);
        var elapsed = time.GetElapsedTime(started);
        if (runs + alerts + deliveries + gitHubDeliveries > 0)
        {
            LogDeleted(runs, steps, alerts, deliveries, before, runBatches + alertBatches + deliveryBatches, elapsed.TotalSeconds);
        }
        else
        {
            LogNothing(before);
        }

        return pass;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Retention;
        if (!settings.Enabled)
        {
            LogOff();
            return;
        }

        await Task.Delay(FirstPassAfter, time, stoppingToken);
        using var timer = new PeriodicTimer(settings.Interval, time);
        do
        {
            try
            {
                await PassAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(ex, settings.Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private Task PauseAsync(TimeSpan pause, CancellationToken cancellationToken) =>
        pause > TimeSpan.Zero ? Task.Delay(pause, time, cancellationToken) : Task.CompletedTask;

    [LoggerMessage(EventId = 1300, Level = LogLevel.Information,
        Message = "Retention deleted {Runs} runs with {Steps} steps, {Alerts} alerts and {Deliveries} webhook deliveries from before {Before:o} ({Batches} batches, {Seconds:0.0} s); their toil figures are kept")]
    private partial void LogDeleted(int runs, int steps, int alerts, int deliveries, DateTimeOffset before, int batches, double seconds);

    [LoggerMessage(EventId = 1301, Level = LogLevel.Debug, Message = "Retention found nothing from before {Before:o} to delete")]
    private partial void LogNothing(DateTimeOffset before);

    [LoggerMessage(EventId = 1302, Level = LogLevel.Debug, Message = "Retention is running on another node; this one skips this interval")]
    private partial void LogBusy();

    [LoggerMessage(EventId = 1303, Level = LogLevel.Error, Message = "Retention failed; what it deleted stays deleted, and it tries again in {Interval}")]
    private partial void LogFailed(Exception exception, TimeSpan interval);

    [LoggerMessage(EventId = 1304, Level = LogLevel.Information, Message = "Retention is off (RunbookEngine:Retention:MaxAge is 0): run history is kept forever")]
    private partial void LogOff();
}

/// <summary>What one retention pass deleted.</summary>
/// <param name="Worked">False when retention is off or another node held the lock.</param>
/// <param name="Before">History from before this went.</param>
/// <param name="Runs">Runs deleted.</param>
/// <param name="Steps">Their steps.</param>
/// <param name="Alerts">Alerts deleted.</param>
/// <param name="Deliveries">Webhook deliveries deleted.</param>
/// <param name="RunBatches">Transactions that deleted runs (the last one finds fewer than a batch, maybe none).</param>
/// <param name="AlertBatches">Transactions that deleted alerts.</param>
/// <param name="DeliveryBatches">Transactions that deleted deliveries.</param>
/// <param name="GitHubDeliveries">GitHub delivery ids forgotten.</param>
/// <param name="GitHubChecks">Claims on GitHub checks forgotten.</param>
/// <param name="Notifications">Delivered or abandoned notifications forgotten.</param>
public sealed record RetentionPass(bool Worked, DateTimeOffset Before, int Runs, int Steps, int Alerts, int Deliveries, int RunBatches, int AlertBatches, int DeliveryBatches, int GitHubDeliveries = 0, int GitHubChecks = 0, int Notifications = 0)
{
    /// <summary>A pass that did not run.</summary>
    public static RetentionPass Idle { get; } = new(false, default, 0, 0, 0, 0, 0, 0, 0);
}
