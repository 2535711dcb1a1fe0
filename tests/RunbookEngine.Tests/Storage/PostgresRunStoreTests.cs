using Npgsql;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Storage;

public sealed class PostgresRunStoreTests : RunStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _connectionString = await server.CreateDatabaseAsync(nameof(PostgresRunStoreTests));
        return SqlRunStore.Postgres(_connectionString, Time);
    }

    protected override async Task MarkSchemaVersionAsync(int version)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"INSERT INTO runbook_schema (version, applied_at) VALUES ({version}, 0)", connection);
        await command.ExecuteNonQueryAsync();
    }
}
