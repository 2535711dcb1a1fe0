using System.Data.Common;
using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace RunbookEngine.Storage;

/// <summary>
/// Waits for the store to come back instead of losing a write a run depends on: its step journal and its outcome.
/// A write that fails because the store cannot be reached is tried again, 250 ms after the first failure and doubling
/// to at most <see cref="MaxDelay"/>, until it succeeds or <c>stopping</c> fires (the host's shutdown grace is over).
/// Any other failure (a constraint, a bug) is thrown at once: retrying it would only hang the run.
/// </summary>
/// <remarks>
/// Every write retried here is safe to repeat: step entries are upserts keyed by (run, sequence), and run outcome
/// updates only change a run that is not already in the state they set. An outage is logged once as it starts and
/// once as it ends, however many writes wait through it, so a long outage does not flood the log.
/// </remarks>
internal sealed partial class StoreRetry(IRunStore store, TimeProvider time, ILogger<StoreRetry> logger)
{
    /// <summary>The longest wait between two tries; also about how long a write takes to notice the store is back.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(250);

    // When the current outage was first seen (UTC ticks), or 0 while the store answers; shared by every waiting write
    // so the outage is logged once.
    private long _outageSince;

    /// <summary>Runs <paramref name="write"/> until the store takes it.</summary>
    /// <param name="what">What is written, for the log ("step 2 of run 01a2...").</param>
    /// <param name="write">The write; it must be safe to repeat. It is never cancelled half way: a run that is being
    /// cancelled still records how it ended.</param>
    /// <param name="stopping">Ends the waiting (the host is going away); the last failure is then thrown.</param>
    /// <returns>What the write returned.</returns>
    public async Task<T> RunAsync<T>(string what, Func<CancellationToken, Task<T>> write, CancellationToken stopping)
    {
        var delay = FirstDelay;
        var waited = false;
        while (true)
        {
            try
            {
                var result = await write(CancellationToken.None);
                if (waited)
                {
                    Recovered();
                }

                return result;
            }
            catch (Exception ex) when (IsUnavailable(ex) && !stopping.IsCancellationRequested)
            {
                DropIdleConnections();
                if (!waited)
                {
                    waited = true;
                    if (Interlocked.CompareExchange(ref _outageSince, time.GetUtcNow().UtcTicks, 0) == 0)
                    {
                        LogUnavailable(what, Describe(ex));
                    }
                }
            }

            try
            {
                await Task.Delay(delay, time, stopping);
            }
            catch (OperationCanceledException)
            {
                // One last try below, so a write that the store could take now is not given up for a shutdown.
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxDelay.Ticks));
        }
    }

    /// <summary>Runs <paramref name="write"/> until the store takes it.</summary>
    /// <param name="what">What is written, for the log.</param>
    /// <param name="write">The write; it must be safe to repeat.</param>
    /// <param name="stopping">Ends the waiting; the last failure is then thrown.</param>
    /// <returns>A task that completes when the write is durable.</returns>
    public Task RunAsync(string what, Func<CancellationToken, Task> write, CancellationToken stopping) =>
        RunAsync(what, async ct =>
        {
            await write(ct);
            return true;
        }, stopping);

    /// <summary>
    /// Whether a failure says the store (or the network to it) is away, rather than that the write is wrong: a
    /// refused or broken connection, a server shutting down or starting up, a timeout, or Hangfire's client reporting
    /// one of those from its own connection.
    /// </summary>
    /// <param name="exception">The failure.</param>
    /// <returns>True when trying again later can succeed.</returns>
    public static bool IsUnavailable(Exception exception)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case PostgresException postgres:
                    // 08: connection exceptions; 57P01-57P03: the server is shutting down or not yet accepting
                    // connections; 53300: too many connections (a server that just came back and is flooded).
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState is "57P01" or "57P02" or "57P03" or "53300"
                        || postgres.IsTransient;
                case NpgsqlException:
                    // Without a server error this is the connection itself failing (refused, reset, timed out).
                    return true;
                case SqliteException sqlite:
                    // SQLITE_BUSY and SQLITE_LOCKED: another writer holds the file; anything else is the write itself.
                    return sqlite.SqliteErrorCode is 5 or 6 || sqlite.IsTransient;
                case DbException db when db.IsTransient:
                case TimeoutException:
                case SocketException:
                case IOException:
                    return true;
                case Hangfire.BackgroundJobClientException:
                    continue;
            }
        }

        return false;
    }

    /// <summary>
    /// Closes the idle connections of the run store's pool and of the scheduler's. A server that went away closed them
    /// all, but a pool hands each out once more and only then finds it broken: after a restart every one of them would
    /// fail one more operation (a sweep, a dispatch, a webhook). Cheap while the store is away, since the pools are empty.
    /// </summary>
    public void DropIdleConnections()
    {
        (store as SqlRunStore)?.DropIdleConnections();

        // Hangfire opens its connections from a connection string, so they live in Npgsql's shared pools.
        NpgsqlConnection.ClearAllPools();
    }

    private static string Describe(Exception exception)
    {
        var inner = exception;
        while (inner.InnerException is not null && inner is not NpgsqlException and not SqliteException)
        {
            inner = inner.InnerException;
        }

        return inner.Message;
    }

    private void Recovered()
    {
        var since = Interlocked.Exchange(ref _outageSince, 0);
        if (since != 0)
        {
            LogBack(Sdk.Durations.Format(time.GetUtcNow() - new DateTimeOffset(since, TimeSpan.Zero)));
        }
    }

    [LoggerMessage(EventId = 250, Level = LogLevel.Error, Message = "The run store is unavailable ({Reason}); run journal and outcome writes wait for it to come back, starting with {What}")]
    private partial void LogUnavailable(string what, string reason);

    [LoggerMessage(EventId = 251, Level = LogLevel.Warning, Message = "The run store is back after {Outage}; the run writes that waited for it go on")]
    private partial void LogBack(string outage);
}
