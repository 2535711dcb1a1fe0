using Microsoft.Extensions.Time.Testing;
using Quartz;
using RunbookEngine.Scheduling;

namespace RunbookEngine.Tests.Scheduling;

/// <summary>
/// The Quartz side of dispatching, on an in-memory scheduler that is never started: which job and triggers each
/// request leaves behind, since that is what the cluster's nodes fire.
/// </summary>
public sealed class QuartzRunDispatcherTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private StandaloneSchedulerFactory _factory = null!;
    private IScheduler _scheduler = null!;
    private QuartzRunDispatcher _dispatcher = null!;

    public async Task InitializeAsync()
    {
        _factory = QuartzSchedulerBuilder.Create(q => q
                .ConfigureScheduler(o => o.InstanceName = $"dispatcher-tests-{Guid.NewGuid():N}")
                .UseDefaultThreadPool(1)
                .UseInMemoryStore())
            .Build();
        _scheduler = await _factory.GetScheduler();
        _dispatcher = new QuartzRunDispatcher(_factory, _time);
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task DispatchAsync_Twice_LeavesOneJobNamedForTheRun()
    {
        await _dispatcher.DispatchAsync("run-1", default);
        await _dispatcher.DispatchAsync("run-1", default);

        var job = await _scheduler.GetJobDetail(new JobKey("run-1", RunJob.Group));
        Assert.True(job!.RequestsRecovery);
        Assert.Equal(["run-1"], await TriggerNamesAsync("run-1"));
    }

    [Fact]
    public async Task WakeAsync_OfARunWithNoJob_GivesItOne_AtItsDeadline()
    {
        var deadline = _time.GetUtcNow().AddMinutes(30);

        await _dispatcher.WakeAsync("run-1", deadline, default);

        var trigger = Assert.Single(await _scheduler.GetTriggersOfJob(new JobKey("run-1", RunJob.Group)));
        Assert.StartsWith("run-1-wake-", trigger.Key.Name, StringComparison.Ordinal);
        Assert.Equal(deadline, trigger.StartTimeUtc);
    }

    [Fact]
    public async Task WakeAsync_WithAPastDeadline_WakesNow_BesideTheTriggersTheJobHas()
    {
        await _dispatcher.DispatchAsync("run-1", default);

        await _dispatcher.WakeAsync("run-1", _time.GetUtcNow().AddMinutes(-5), default);

        var wake = Assert.Single(await _scheduler.GetTriggersOfJob(new JobKey("run-1", RunJob.Group)), t => t.Key.Name != "run-1");
        Assert.Equal(_time.GetUtcNow(), wake.StartTimeUtc);
    }

    [Fact]
    public async Task DispatchAttemptAsync_Twice_AddsOneTriggerForThatAttempt()
    {
        await _dispatcher.DispatchAsync("run-1", default);
        var at = _time.GetUtcNow().AddSeconds(4);

        await _dispatcher.DispatchAttemptAsync("run-1", 2, at, default);
        await _dispatcher.DispatchAttemptAsync("run-1", 2, at, default);

        Assert.Equal(["run-1", "run-1-attempt-2"], await TriggerNamesAsync("run-1"));
        Assert.Equal(at, (await _scheduler.GetTrigger(new TriggerKey("run-1-attempt-2", RunJob.Group)))!.StartTimeUtc);
    }

    [Fact]
    public async Task RecheckKeyAsync_AddsATriggerAfterTheDelay()
    {
        await _dispatcher.DispatchAsync("run-1", default);

        await _dispatcher.RecheckKeyAsync("run-1", TimeSpan.FromSeconds(1), default);

        var recheck = Assert.Single(await _scheduler.GetTriggersOfJob(new JobKey("run-1", RunJob.Group)), t => t.Key.Name != "run-1");
        Assert.Equal($"run-1-wait-{_time.GetUtcNow().ToUnixTimeMilliseconds()}", recheck.Key.Name);
        Assert.Equal(_time.GetUtcNow().AddSeconds(1), recheck.StartTimeUtc);
    }

    [Fact]
    public async Task ResumeAsync_OnAShutDownScheduler_SaysTheSchedulerRefused()
    {
        await _dispatcher.DispatchAsync("run-1", default);
        var executing = QuartzRunDispatcher.Of(_scheduler, _time);
        await _scheduler.Shutdown();

        await Assert.ThrowsAsync<RunDispatchException>(() => executing.ResumeAsync("run-1", 2, default));
    }

    [Fact]
    public async Task DispatchAttemptAsync_OnAShutDownScheduler_SaysTheSchedulerRefused()
    {
        await _dispatcher.DispatchAsync("run-1", default);
        var executing = QuartzRunDispatcher.Of(_scheduler, _time);
        await _scheduler.Shutdown();

        await Assert.ThrowsAsync<RunDispatchException>(() => executing.DispatchAttemptAsync("run-1", 2, _time.GetUtcNow().AddMinutes(1), default));
    }

    [Fact]
    public async Task RemoveAsync_DeletesTheJobAndEveryTrigger()
    {
        await _dispatcher.DispatchAsync("run-1", default);
        await _dispatcher.WakeAsync("run-1", _time.GetUtcNow().AddHours(1), default);

        await _dispatcher.RemoveAsync("run-1", default);

        Assert.False(await _scheduler.Exists(new JobKey("run-1", RunJob.Group)));
        Assert.Empty(await _scheduler.GetTriggersOfJob(new JobKey("run-1", RunJob.Group)));
        Assert.False(await _scheduler.Exists(new TriggerKey("run-1", RunJob.Group)));
    }

    private async Task<string[]> TriggerNamesAsync(string runId) =>
        [.. (await _scheduler.GetTriggersOfJob(new JobKey(runId, RunJob.Group))).Select(t => t.Key.Name).Order(StringComparer.Ordinal)];
}
