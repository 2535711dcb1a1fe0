using RunbookEngine.Alerts;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;
using RunbookEngine.Trust.GameDays;

namespace RunbookEngine.Tests.Storage;

/// <summary>What every store must do with game days (<see cref="IGameDayStore"/>), on each database.</summary>
public abstract class GameDayStoreContract : StoreContract
{
    /// <summary>Another node's store on the same database.</summary>
    protected abstract SqlRunStore OtherNode();

    [Fact]
    public async Task A_runbook_has_one_running_game_day_across_nodes_until_it_ends()
    {
        await using var other = OtherNode();

        var first = await Store.StartGameDayAsync("restart", "alice", "node-a", default);
        var second = await other.StartGameDayAsync("restart", "bob", "node-b", default);
        var elsewhere = await other.StartGameDayAsync("disk-cleanup", "bob", "node-b", default);
        await Store.SaveGameDayAsync(first! with { Status = GameDayStatus.Failed, FinishedAt = Time.GetUtcNow() }, default);
        var afterwards = await other.StartGameDayAsync("restart", "bob", "node-b", default);

        Assert.NotNull(first);
        Assert.Equal((GameDayStatus.Running, GameDayPhase.Injecting, "alice", "node-a"), (first.Status, first.Phase, first.StartedBy, first.Node));
        Assert.Null(second);
        Assert.NotNull(elsewhere);
        Assert.NotNull(afterwards);
    }

    [Fact]
    public async Task Progress_reads_back_as_written_with_its_three_times_and_an_ended_game_day_stays_ended()
    {
        var start = (await Store.StartGameDayAsync("restart", "alice", "node-a", default))!;
        var injected = Time.GetUtcNow();
        var done = start with
        {
            InjectedAt = injected,
            AlertId = "alert-1",
            AlertAt = injected.AddSeconds(3),
            RunId = "run-1",
            RemediatedAt = injected.AddSeconds(7.5),
            VerifiedAt = injected.AddSeconds(8),
            RestoredAt = injected.AddSeconds(9),
            FinishedAt = injected.AddSeconds(9),
            Status = GameDayStatus.Succeeded,
            Phase = GameDayPhase.Done,
            Log = "$ inject: kill it\ninject exited 0 after 0.1 s\n",
        };

        Assert.True(await Store.SaveGameDayAsync(done, default));
        Assert.False(await Store.SaveGameDayAsync(done with { Status = GameDayStatus.Failed, Error = "too late" }, default));
        var read = (await Store.GetGameDayAsync(start.Id, default))!;

        Assert.Equal(done, read);
        Assert.Equal((TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4.5), TimeSpan.FromSeconds(8)), (read.TimeToDetect, read.TimeToRemediate, read.TimeToRecover));
        Assert.Null(await Store.GetGameDayAsync("nope", default));
    }

    [Fact]
    public async Task A_runbooks_history_is_newest_first_and_its_own()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var g = (await Store.StartGameDayAsync("restart", "alice", "node-a", default))!;
            await Store.SaveGameDayAsync(g with { Status = GameDayStatus.Succeeded, Phase = GameDayPhase.Done }, default);
            ids.Add(g.Id);
            Time.Advance(TimeSpan.FromMinutes(1));
        }

        await Store.StartGameDayAsync("disk-cleanup", "alice", "node-a", default);

        Assert.Equal(ids.AsEnumerable().Reverse(), (await Store.ListGameDaysAsync("restart", 10, default)).Select(g => g.Id));
        Assert.Equal(ids[2], Assert.Single(await Store.ListGameDaysAsync("restart", 1, default)).Id);
        Assert.Empty(await Store.ListGameDaysAsync("prune-snapshots", 10, default));
    }

    [Fact]
    public async Task Abandoned_game_days_are_a_restarted_nodes_own_and_those_whose_heartbeat_fell_silent()
    {
        var mine = (await Store.StartGameDayAsync("a", "alice", "node-a", default))!;
        var silent = (await Store.StartGameDayAsync("b", "alice", "node-b", default))!;
        Time.Advance(TimeSpan.FromMinutes(1));
        var alive = (await Store.StartGameDayAsync("c", "alice", "node-c", default))!;
        var renewed = (await Store.StartGameDayAsync("d", "alice", "node-d", default))!;
        var ended = (await Store.StartGameDayAsync("e", "alice", "node-a", default))!;
        await Store.SaveGameDayAsync(ended with { Status = GameDayStatus.Succeeded }, default);
        Time.Advance(TimeSpan.FromSeconds(20));
        var notRunning = await Store.RenewGameDaysAsync([renewed.Id, ended.Id], default);
        Time.Advance(TimeSpan.FromSeconds(20));

        var atStart = await Store.AbandonedGameDaysAsync("node-a", Time.GetUtcNow() - TimeSpan.FromSeconds(30), default);
        var later = await Store.AbandonedGameDaysAsync(null, Time.GetUtcNow() - TimeSpan.FromSeconds(30), default);

        Assert.Equal([mine.Id, silent.Id, alive.Id], atStart.Select(g => g.Id));
        Assert.Equal([mine.Id, silent.Id, alive.Id], later.Select(g => g.Id));
        Assert.DoesNotContain(renewed.Id, later.Select(g => g.Id));
        Assert.Equal([ended.Id], notRunning);
    }

    [Fact]
    public async Task The_alerts_a_game_day_waits_for_are_those_received_since_its_injection_for_its_runbook()
    {
        var before = await IngestAsync("ServiceDown", "fp-before");
        await Store.AddDecisionAsync(before, new AlertDecision("restart", AlertDecisionKind.Started, "run-0", null, Time.GetUtcNow()), default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var injected = Time.GetUtcNow();
        var guarded = await IngestAsync("ServiceDown", "fp-guarded");
        await Store.AddDecisionAsync(guarded, new AlertDecision("restart", AlertDecisionKind.Cooldown, null, "a run ended 2m ago", Time.GetUtcNow()), default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var started = await IngestAsync("ServiceDown", "fp-started");
        await Store.AddDecisionAsync(started, new AlertDecision("restart", AlertDecisionKind.Started, "run-1", null, Time.GetUtcNow()), default);
        await Store.AddDecisionAsync(started, new AlertDecision("page-someone", AlertDecisionKind.Started, "run-2", null, Time.GetUtcNow()), default);
        await IngestAsync("ServiceDown", "fp-undecided");

        var alerts = await Store.AlertsForRunbookSinceAsync("restart", injected, default);

        Assert.Equal(
            [(guarded, AlertDecisionKind.Cooldown, null, "a run ended 2m ago"), (started, AlertDecisionKind.Started, "run-1", null)],
            alerts.Select(a => (a.AlertId, a.Decision, a.RunId, a.Reason)));
        Assert.Equal(("ServiceDown", injected.AddSeconds(1)), (alerts[1].AlertName, alerts[1].ReceivedAt));
    }

    private async Task<string> IngestAsync(string name, string fingerprint)
    {
        var alert = new RunbookAlert("alertmanager", name, AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), Time.GetUtcNow(), null, fingerprint);
        return (await Store.IngestAsync(new WebhookDelivery("alertmanager", null, "{}", [new(alert, "k-" + fingerprint)]), default)).Single().Id;
    }
}

public sealed class GameDayStoreOnSqlite : GameDayStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));

    protected override SqlRunStore OtherNode() => SqlRunStore.Sqlite(_path, Time);
}

public sealed class GameDayStoreOnPostgres : GameDayStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _connectionString = await server.CreateDatabaseAsync(nameof(GameDayStoreOnPostgres));
        return SqlRunStore.Postgres(_connectionString, Time);
    }

    protected override SqlRunStore OtherNode() => SqlRunStore.Postgres(_connectionString, Time);
}
