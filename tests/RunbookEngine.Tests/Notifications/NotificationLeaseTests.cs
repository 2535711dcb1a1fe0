using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Notifications;
using RunbookEngine.Scheduling;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Notifications;

/// <summary>Two nodes' deliveries on one store and one fake clock: a node that stalls mid-delivery loses the row when its lease ends.</summary>
public sealed class NotificationLeaseTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly SqlRunStore _store;
    private readonly RunbookEngineOptions _options = new()
    {
        Notifications = { Channels = { ["ops"] = new NotificationChannelOptions { Kind = "recording" } } },
    };

    public NotificationLeaseTests() =>
        _store = SqlRunStore.Sqlite(Path.Combine(Directory.CreateTempSubdirectory("runbook-lease-").FullName, "data", "runs.db"), _time);

    public Task InitializeAsync() => _store.MigrateAsync(CancellationToken.None);

    public async Task DisposeAsync() => await _store.DisposeAsync();

    [Fact]
    public async Task A_delivery_whose_node_stalls_past_its_lease_is_taken_over_by_another_node_and_delivered_once()
    {
        await _store.AddNotificationAsync("breaker_opened", "restart", "5 failures in 10m", default);
        var routed = (await _store.ClaimNotificationAsync("router", TimeSpan.FromSeconds(30), default))!;
        var delivery = Assert.Single(await _store.RouteNotificationAsync(routed.Id, ["ops"], default));
        using var dies = new CancellationTokenSource();
        var channel = new StallingChannel(dies.Token);
        var settings = _options.Notifications;
        var nodeA = Delivery("node-a", channel);
        var nodeB = Delivery("node-b", channel);

        var stalled = nodeA.NextAsync(settings, dies.Token);
        await channel.Stalled.Task.WaitAsync(TimeSpan.FromMinutes(1));
        var whileLeased = await nodeB.NextAsync(settings, default);
        _time.Advance(settings.Timeout + TimeSpan.FromSeconds(31));
        var afterLease = await nodeB.NextAsync(settings, default);
        await dies.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => stalled);
        var nothingLeft = await Delivery("node-a", channel).NextAsync(settings, default);

        Assert.False(whileLeased);
        Assert.True(afterLease);
        Assert.False(nothingLeft);
        Assert.Equal([delivery.Id], channel.Delivered);
        var row = Assert.Single(await _store.ListNotificationsAsync(null, 10, default));
        Assert.Equal(("Delivered", 1), (row.State, row.Attempts));
    }

    [Fact]
    public async Task A_channel_whose_receiver_hangs_holds_up_only_its_own_deliveries()
    {
        var options = new RunbookEngineOptions
        {
            Notifications = { Channels = { ["stuck"] = new NotificationChannelOptions { Kind = "hanging" }, ["ops"] = new NotificationChannelOptions { Kind = "recording" } } },
        };
        var hanging = new HangingChannel();
        var recording = new StallingChannel(CancellationToken.None, stallFirst: false);

        // The hanging channel's deliveries are older, so one worker for all would take them first and never get further.
        await _store.AddNotificationAsync("breaker_opened", "restart", "5 failures in 10m", default);
        var events = new NotificationLane(null, ["stuck", "ops"]);
        var first = (await _store.ClaimNotificationAsync("router", TimeSpan.FromSeconds(30), events, default))!;
        await _store.RouteNotificationAsync(first.Id, ["stuck"], default);
        _time.Advance(TimeSpan.FromSeconds(1));
        await _store.AddNotificationAsync("catalog_broken", null, "runbooks/x.csx does not compile", default);
        var second = (await _store.ClaimNotificationAsync("router", TimeSpan.FromSeconds(30), events, default))!;
        var toOps = Assert.Single(await _store.RouteNotificationAsync(second.Id, ["ops"], default));
        var delivery = new NotificationDelivery(
            _store, _store, null!, [hanging, recording], new NodeIdentity("node-a"), new StaticOptions(options), _time, NullLogger<NotificationDelivery>.Instance);

        await delivery.StartAsync(default);
        try
        {
            await hanging.Entered.Task.WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(SpinWait.SpinUntil(() => { lock (recording.Delivered) { return recording.Delivered.Count > 0; } }, TimeSpan.FromMinutes(1)), "ops was never delivered while the other channel hung");
            Assert.Equal([toOps.Id], recording.Delivered);
            Assert.False(hanging.Release.Task.IsCompleted);
        }
        finally
        {
            hanging.Release.TrySetResult();
            await delivery.StopAsync(default);
        }
    }

    private NotificationDelivery Delivery(string node, INotificationChannel channel) => new(
        _store, _store, null!, [channel], new NodeIdentity(node), new StaticOptions(_options), _time, NullLogger<NotificationDelivery>.Instance);

    /// <summary>A receiver that never answers, deaf to every timeout, until the test lets it go.</summary>
    private sealed class HangingChannel : INotificationChannel
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Kind => "hanging";

        public async Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task;
        }
    }

    /// <summary>
    /// Hangs on its first delivery until the node dies, deaf to the delivery's own timeout (which the fake clock fires
    /// when the test moves past the lease), as a stalled process is; then records every later one.
    /// </summary>
    private sealed class StallingChannel(CancellationToken dies, bool stallFirst = true) : INotificationChannel
    {
        private int _calls;

        public TaskCompletionSource Stalled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public List<string> Delivered { get; } = [];

        public string Kind => "recording";

        public async Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken)
        {
            if (Interlocked.Increment(ref _calls) == 1 && stallFirst)
            {
                Stalled.SetResult();
                // A node that stalls: nothing comes back until it dies.
                await new TaskCompletionSource().Task.WaitAsync(dies);
            }

            lock (Delivered)
            {
                Delivered.Add(message.Delivery.Id);
            }
        }
    }

    private sealed class StaticOptions(RunbookEngineOptions value) : IOptionsMonitor<RunbookEngineOptions>
    {
        public RunbookEngineOptions CurrentValue => value;

        public RunbookEngineOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RunbookEngineOptions, string?> listener) => null;
    }
}
