using System.Data.Common;
using Npgsql;

namespace RunbookEngine.Storage.Postgres;

/// <summary>The production store, shared by every node of a cluster.</summary>
internal sealed class PostgresDialect(NpgsqlDataSource dataSource, NpgsqlDataSource holds) : SqlDialect
{
    // The first key of the two-key advisory locks that hold runs, apart from the migration lock and concurrency keys.
    private const int RunHoldSpace = 0x52554E;

    // An arbitrary constant naming RunbookEngine's migration lock among the database's advisory locks.
    private const long MigrationLockKey = 0x52554E424F4F4B;

    public override string Name => "PostgreSQL";

    // Free-text search and the target filter of the runs page are LIKE '%text%', which no B-tree serves; trigram
    // indexes make them an index lookup instead of a scan of every run (docs/benchmarks.md: 207 ms to 13 ms at 100,000
    // runs). The expressions must stay exactly those of SqlRunStore.ListRunsAsync.
    public override IReadOnlyList<string> OptionalIndexes =>
    [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        $"CREATE INDEX IF NOT EXISTS ix_runbook_runs_search ON runbook_runs USING gin ({SqlRunStore.SearchExpression} gin_trgm_ops)",
        "CREATE INDEX IF NOT EXISTS ix_runbook_runs_target_search ON runbook_runs USING gin ((LOWER(target)) gin_trgm_ops)",
    ];

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken);

    public override void DropIdleConnections()
    {
        dataSource.Clear();
        holds.Clear();
    }

    /// <summary>
    /// A session-level advisory lock on a connection of its own, held while the execution runs. PostgreSQL frees it
    /// the moment the session ends: a node killed with -9 loses it at once (its socket closes), a node that is only
    /// stalled (SIGSTOP, a long GC pause, a VM freeze) keeps it, so its run is never taken over while it may still act.
    /// The session's TCP keepalives bound how long a host that vanished without closing its socket keeps it.
    /// </summary>
    public override async Task<IAsyncDisposable?> HoldRunAsync(string runId, CancellationToken cancellationToken)
    {
        var connection = await holds.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT pg_try_advisory_lock(@space, hashtext(@id))";
            command.Parameters.AddWithValue("space", RunHoldSpace);
            command.Parameters.AddWithValue("id", runId);
            if (await command.ExecuteScalarAsync(cancellationToken) is true)
            {
                return new Hold(connection, runId);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    private sealed class Hold(NpgsqlConnection connection, string runId) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                // Unlocked before the connection goes back to the pool, where the session (and its lock) lives on.
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT pg_advisory_unlock(@space, hashtext(@id))";
                command.Parameters.AddWithValue("space", RunHoldSpace);
                command.Parameters.AddWithValue("id", runId);
                await command.ExecuteNonQueryAsync(CancellationToken.None);
                await connection.DisposeAsync();
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
            {
                // The session is gone (the store went away), and its lock with it; a pooled connection that may still
                // hold the lock must not be reused.
                NpgsqlConnection.ClearPool(connection);
                await connection.DisposeAsync();
            }
        }
    }

    public override async Task LockKeyAsync(DbConnection connection, DbTransaction transaction, string key, CancellationToken cancellationToken)
    {
        // Two nodes claiming runs for one key must not both see it free under READ COMMITTED.
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT pg_advisory_xact_lock(hashtext(@key))";
        var parameter = command.CreateParameter();
        parameter.ParameterName = "key";
        parameter.Value = key;
        command.Parameters.Add(parameter);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public override async Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({MigrationLockKey})";
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
