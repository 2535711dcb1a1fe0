using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

/// <summary><see cref="StoreRetry"/> on a clock whose waits end at once and are written down.</summary>
public sealed class a_store_write_that_waits_for_the_store : IAsyncDisposable
{
    private readonly ImpatientClock _clock = new();
    private readonly SqlRunStore _store = SqlRunStore.Sqlite(Path.Combine(Directory.CreateTempSubdirectory("runbook-retry-").FullName, "runs.db"), TimeProvider.System);
    private readonly StoreRetry _retry;

    public a_store_write_that_waits_for_the_store() => _retry = new StoreRetry(_store, _clock, NullLogger<StoreRetry>.Instance);

    public ValueTask DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task is_tried_again_until_the_store_takes_it_waiting_longer_each_time_up_to_five_seconds()
    {
        var tries = 0;
        var result = await _retry.RunAsync("a step", _ => ++tries < 8 ? throw new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException(111)) : Task.FromResult(42), CancellationToken.None);

        Assert.Equal(42, result);
        Assert.Equal(8, tries);
        Assert.Equal([0.25, 0.5, 1, 2, 4, 5, 5], _clock.Waits.Select(w => w.TotalSeconds));
    }

    [Fact]
    public async Task fails_at_once_for_a_write_that_is_wrong_rather_than_a_store_that_is_away()
    {
        var tries = 0;
        await Assert.ThrowsAsync<SqliteException>(() => _retry.RunAsync<int>("a step", _ =>
        {
            tries++;
            throw new SqliteException("UNIQUE constraint failed", 19);
        }, CancellationToken.None));

        Assert.Equal(1, tries);
    }

    [Fact]
    public async Task gives_up_with_the_store_s_own_error_once_the_host_stops_waiting()
    {
        using var stopping = new CancellationTokenSource();
        var tries = 0;
        var failure = await Assert.ThrowsAsync<NpgsqlException>(() => _retry.RunAsync<int>("a step", _ =>
        {
            if (++tries == 3)
            {
                stopping.Cancel();
            }

            throw new NpgsqlException("Failed to connect", new SocketException(111));
        }, stopping.Token));

        Assert.Equal("Failed to connect", failure.Message);
        Assert.Equal(3, tries);
    }

    [Fact]
    public void counts_a_store_that_is_away_as_worth_waiting_for_and_nothing_else()
    {
        Assert.True(StoreRetry.IsUnavailable(new NpgsqlException("Failed to connect", new SocketException(111))));
        Assert.True(StoreRetry.IsUnavailable(new Hangfire.BackgroundJobClientException("Background job creation failed", new NpgsqlException("Failed to connect"))));
        Assert.True(StoreRetry.IsUnavailable(new TimeoutException()));
        Assert.True(StoreRetry.IsUnavailable(new SqliteException("database is locked", 5)));
        Assert.False(StoreRetry.IsUnavailable(new SqliteException("UNIQUE constraint failed", 19)));
        Assert.False(StoreRetry.IsUnavailable(new InvalidOperationException("a bug")));
        Assert.False(StoreRetry.IsUnavailable(new Hangfire.BackgroundJobClientException("no such job", new InvalidOperationException("bad state"))));
    }

    /// <summary>A clock whose timers fire at once, so retries are not waited out, and which records what was asked.</summary>
    private sealed class ImpatientClock : TimeProvider
    {
        public List<TimeSpan> Waits { get; } = [];

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (Waits)
            {
                Waits.Add(dueTime);
            }

            return System.CreateTimer(callback, state, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
    }
}
