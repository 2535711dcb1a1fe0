using Microsoft.Data.Sqlite;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

public sealed class SqliteRunStoreTests : RunStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));

    protected override async Task MarkSchemaVersionAsync(int version)
    {
        await using var connection = new SqliteConnection($"Data Source={_path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"INSERT INTO runbook_schema (version, applied_at) VALUES ({version}, 0)";
        await command.ExecuteNonQueryAsync();
    }
}
