using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace RunbookEngine.Storage.Sqlite;

/// <summary>The embedded store: one file, one node. WAL lets the dashboard read while runs write.</summary>
internal sealed class SqliteDialect(string connectionString) : SqlDialect
{
    public override string Name => "SQLite";

    public override async Task<DbConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragmas = connection.CreateCommand();
        pragmas.CommandText = "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA synchronous=NORMAL;";
        await pragmas.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    // SQLite transactions from Microsoft.Data.Sqlite start IMMEDIATE, which already excludes other writers.
    public override Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    // The same holds for concurrency claims: one writer at a time.
    public override Task LockKeyAsync(DbConnection connection, DbTransaction transaction, string key, CancellationToken cancellationToken) => Task.CompletedTask;
}
