using System.Data.Common;
using Npgsql;

namespace RunbookEngine.Storage.Postgres;

/// <summary>The production store, shared by every node of a cluster.</summary>
internal sealed class PostgresDialect(NpgsqlDataSource dataSource) : SqlDialect
{
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

    public override void DropIdleConnections() => dataSource.Clear();

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
