using RunbookEngine.Notifications;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Storage;

/// <summary>What every store must do with the notifications outbox (<see cref="INotificationStore"/>), on each database.</summary>
public abstract class NotificationStoreContract : StoreContract
{
    /// <summary>Another node's store on the same database.</summary>
    protected abstract SqlRunStore OtherNode();

    [Fact]
    public async Task A_runs_failure_writes_its_event_with_the_outcome_and_a_second_finish_writes_none()
    {
        var run = await RunningAsync("restart");

        Assert.False(await Store.FinishRunAsync(run.Id, RunStatus.Failed, "systemctl exited 1", "claim-x", default));
        Assert.Empty(await Store.ListNotificationsAsync(null, 10, default));

        Assert.True(await Store.FinishRunAsync(run.Id, RunStatus.Failed, "systemctl exited 1", default));
        Assert.False(await Store.FinishRunAsync(run.Id, RunStatus.Failed, "again", default));

        var row = Assert.Single(await Store.ListNotificationsAsync(null, 10, default));
        Assert.Equal(("failed", run.Id, "restart", "systemctl exited 1", (string?)null, "Routing"), (row.Event, row.RunId, row.Runbook, row.Detail, row.Channel, row.State));
    }

    [Fact]
    public async Task A_run_that_rests_for_a_person_writes_a_waiting_event_and_a_cancelled_run_none()
    {
        var waiting = await RunningAsync("restart");
        var cancelled = await RunningAsync("restart");

        await Store.RestForHumanAsync(waiting.Id, null, default);
        await Store.FinishRunAsync(cancelled.Id, RunStatus.Cancelled, "by alice", default);

        var row = Assert.Single(await Store.ListNotificationsAsync(null, 10, default));
        Assert.Equal(("waiting", waiting.Id), (row.Event, row.RunId));
    }

    [Fact]
    public async Task Opening_a_breaker_writes_its_event_once_while_it_stays_open()
    {
        var until = Time.GetUtcNow().AddMinutes(30);

        Assert.True(await Store.OpenBreakerAsync("restart", until, "3 of 4 runs failed", default));
        Assert.False(await Store.OpenBreakerAsync("restart", until, "3 of 4 runs failed", default));

        var row = Assert.Single(await Store.ListNotificationsAsync(null, 10, default));
        Assert.Equal(("breaker_opened", "restart", "3 of 4 runs failed", (string?)null), (row.Event, row.Runbook, row.Detail, row.RunId));
    }

    [Fact]
    public async Task One_node_leases_a_row_and_another_gets_it_only_after_the_lease_ends()
    {
        await using var other = OtherNode();
        await Store.AddNotificationAsync("breaker_opened", "restart", "5 failures in 10m", default);

        var first = await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default);
        var second = await other.ClaimNotificationAsync("node-b", TimeSpan.FromSeconds(30), default);
        Time.Advance(TimeSpan.FromSeconds(31));
        var afterLease = await other.ClaimNotificationAsync("node-b", TimeSpan.FromSeconds(30), default);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.Equal(first.Id, afterLease?.Id);
    }

    [Fact]
    public async Task Routing_an_event_replaces_it_with_one_pending_delivery_per_channel_and_twice_writes_no_more()
    {
        await Store.AddNotificationAsync("catalog_broken", null, "git fetch failed", default);
        var routed = (await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default))!;

        var deliveries = await Store.RouteNotificationAsync(routed.Id, ["oncall", "audit"], default);
        var again = await Store.RouteNotificationAsync(routed.Id, ["oncall", "audit"], default);

        Assert.Equal(["audit", "oncall"], deliveries.Select(d => d.Channel!).Order(StringComparer.Ordinal));
        Assert.Empty(again);
        var rows = await Store.ListNotificationsAsync("pending", 10, default);
        Assert.Equal(["audit", "oncall"], rows.Select(d => d.Channel!).Order(StringComparer.Ordinal));
        Assert.All(rows, r => Assert.Equal(("catalog_broken", "git fetch failed"), (r.Event, r.Detail)));
    }

    [Fact]
    public async Task A_failing_delivery_waits_for_its_next_attempt_shows_as_failing_and_a_retry_makes_it_due_now()
    {
        await Store.AddNotificationAsync("breaker_opened", "restart", null, default);
        var e = (await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default))!;
        var delivery = Assert.Single(await Store.RouteNotificationAsync(e.Id, ["oncall"], default));
        Assert.Equal(delivery.Id, (await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default))?.Id);

        await Store.FailedNotificationAsync(delivery.Id, "503 from hooks.slack.com", Time.GetUtcNow().AddMinutes(1), default);
        var early = await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default);
        var failing = Assert.Single(await Store.ListNotificationsAsync("failing", 10, default));
        var retried = await Store.RetryNotificationAsync(delivery.Id, default);
        var due = await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default);
        await Store.DeliveredNotificationAsync(delivery.Id, default);

        Assert.Null(early);
        Assert.Equal(("Failing", 1, "503 from hooks.slack.com"), (failing.State, failing.Attempts, failing.LastError));
        Assert.Equal(("Pending", 0), (retried!.State, retried.Attempts));
        Assert.Equal(delivery.Id, due?.Id);
        Assert.Equal("Delivered", Assert.Single(await Store.ListNotificationsAsync("delivered", 10, default)).State);
        Assert.Null(await Store.RetryNotificationAsync(delivery.Id, default));
        Assert.Null(await Store.RetryNotificationAsync("nope", default));
        Assert.Null(await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default));
    }

    [Fact]
    public async Task Retention_forgets_delivered_notifications_older_than_the_history_it_keeps_but_never_one_still_failing()
    {
        async Task<string> DeliveryAsync(string channel)
        {
            await Store.AddNotificationAsync("breaker_opened", "restart", null, default);
            var e = (await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default))!;
            return Assert.Single(await Store.RouteNotificationAsync(e.Id, [channel], default)).Id;
        }

        var delivered = await DeliveryAsync("oncall");
        await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default);
        await Store.DeliveredNotificationAsync(delivered, default);
        var failing = await DeliveryAsync("audit");
        await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default);
        await Store.FailedNotificationAsync(failing, "503", Time.GetUtcNow().AddDays(30), default);
        await Store.SaveNotificationMessageAsync("run-long-gone", "oncall", "C1/1.000", default);
        Time.Advance(TimeSpan.FromDays(10));
        var retention = new RunbookEngine.Retention.RunHistoryRetention(
            Store,
            Microsoft.Extensions.Options.Options.Create(new RunbookEngineOptions { Retention = { MaxAge = TimeSpan.FromDays(7), Pause = TimeSpan.Zero } }),
            Time,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<RunbookEngine.Retention.RunHistoryRetention>.Instance);

        var pass = await retention.PassAsync(default);

        Assert.Equal(1, pass.Notifications);
        Assert.Equal([failing], (await Store.ListNotificationsAsync(null, 10, default)).Select(n => n.Id));
        Assert.Null(await Store.NotificationMessageAsync("run-long-gone", "oncall", default));
    }

    [Fact]
    public async Task A_runs_deliveries_to_one_channel_go_one_at_a_time_and_in_order_across_nodes_and_a_lane_takes_only_its_own()
    {
        await using var other = OtherNode();
        var first = await RunningAsync("restart");
        var second = await RunningAsync("restart");
        foreach (var (run, channel) in new[] { (first, "slack"), (first, "hook"), (second, "slack") })
        {
            await Store.SaveNotificationMessageAsync(run.Id, channel, "C1/1.000", default);
        }

        // A channel that never posted a message for the run gets no update to make.
        var written = await Store.AddMessageRefreshAsync(first.Id, "answered", ["slack", "nowhere"], default);
        foreach (var (run, channel) in new[] { (first, "slack"), (second, "slack"), (first, "hook") })
        {
            Time.Advance(TimeSpan.FromMilliseconds(1));
            await Store.AddMessageRefreshAsync(run.Id, "answered", [channel], default);
        }

        var slack = new NotificationLane("slack", []);
        var rest = new NotificationLane(null, ["slack"]);
        var a = await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), slack, default);
        var b = await other.ClaimNotificationAsync("node-b", TimeSpan.FromSeconds(30), slack, default);
        var whileBothLeased = await other.ClaimNotificationAsync("node-b", TimeSpan.FromSeconds(30), slack, default);
        var hook = await other.ClaimNotificationAsync("node-b", TimeSpan.FromSeconds(30), rest, default);
        await Store.DeliveredNotificationAsync(a!.Id, default);
        var next = await other.ClaimNotificationAsync("node-b", TimeSpan.FromSeconds(30), slack, default);

        Assert.Equal(1, written);
        Assert.Equal((first.Id, "slack", "answered"), (a.RunId, a.Channel, a.Event));
        Assert.Equal((second.Id, "slack"), (b?.RunId, b?.Channel));
        Assert.Null(whileBothLeased);
        Assert.Equal((first.Id, "hook"), (hook?.RunId, hook?.Channel));
        Assert.Equal((first.Id, "slack"), (next?.RunId, next?.Channel));
        Assert.True(next!.CreatedAt > a.CreatedAt, "the run's later delivery went first");
        Assert.Null(await Store.ClaimNotificationAsync("node-a", TimeSpan.FromSeconds(30), default));
    }

    [Fact]
    public async Task An_unknown_state_is_refused_by_name()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.ListNotificationsAsync("stuck", 10, default));

        Assert.StartsWith("'stuck' is not a notification state; use pending, failing, abandoned or delivered", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_runs_chat_message_per_channel_is_remembered_and_replaced()
    {
        await Store.SaveNotificationMessageAsync("run-1", "oncall", "C1/1.000", default);
        await Store.SaveNotificationMessageAsync("run-1", "oncall", "C1/2.000", default);

        Assert.Equal("C1/2.000", await Store.NotificationMessageAsync("run-1", "oncall", default));
        Assert.Null(await Store.NotificationMessageAsync("run-1", "audit", default));
    }

    [Fact]
    public async Task A_chat_callback_is_taken_once_across_nodes_by_any_of_its_keys_and_forgotten_after_the_window()
    {
        await using var other = OtherNode();
        var window = Time.GetUtcNow() - TimeSpan.FromMinutes(10);

        var first = await Store.FirstInteractionAsync(["slack-signature:v0=aa", "slack-trigger:1.2.3"], Time.GetUtcNow(), window, default);
        var sameSignature = await other.FirstInteractionAsync(["slack-signature:v0=aa", "slack-trigger:9.9.9"], Time.GetUtcNow(), window, default);
        var sameTrigger = await other.FirstInteractionAsync(["slack-signature:v0=bb", "slack-trigger:1.2.3"], Time.GetUtcNow(), window, default);
        var another = await other.FirstInteractionAsync(["slack-signature:v0=cc", "slack-trigger:4.5.6"], Time.GetUtcNow(), window, default);
        Time.Advance(TimeSpan.FromMinutes(11));
        var afterWindow = await Store.FirstInteractionAsync(["slack-signature:v0=aa"], Time.GetUtcNow(), Time.GetUtcNow() - TimeSpan.FromMinutes(10), default);

        Assert.Equal((true, false, false, true, true), (first, sameSignature, sameTrigger, another, afterWindow));

        // Kept by the signed time: a key signed long ago is forgotten by a callback signed later, whatever this node's clock says.
        Assert.True(await other.FirstInteractionAsync(["slack-signature:v0=old"], Time.GetUtcNow().AddMinutes(-30), Time.GetUtcNow().AddMinutes(-40), default));
        Assert.True(await other.FirstInteractionAsync(["slack-signature:v0=new"], Time.GetUtcNow(), Time.GetUtcNow().AddMinutes(-10), default));
        Assert.True(await Store.FirstInteractionAsync(["slack-signature:v0=old"], Time.GetUtcNow().AddMinutes(-30), Time.GetUtcNow().AddMinutes(-40), default));

        // A refused replay keeps none of its keys: the new signature of the refused sameTrigger was not taken either.
        Assert.True(await Store.FirstInteractionAsync(["slack-signature:v0=bb"], Time.GetUtcNow(), Time.GetUtcNow() - TimeSpan.FromMinutes(10), default));
    }

    private async Task<RunRecord> RunningAsync(string runbook)
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h1", RunTrigger.Manual, "alice"), default);
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        return run;
    }
}

public sealed class NotificationStoreOnSqlite : NotificationStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));

    protected override SqlRunStore OtherNode() => SqlRunStore.Sqlite(_path, Time);
}

public sealed class NotificationStoreOnPostgres : NotificationStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _connectionString = await server.CreateDatabaseAsync(nameof(NotificationStoreOnPostgres));
        return SqlRunStore.Postgres(_connectionString, Time);
    }

    protected override SqlRunStore OtherNode() => SqlRunStore.Postgres(_connectionString, Time);
}
