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

    [Fact]
    public async Task A_Hold_OnARun_KeepsOtherExecutionsOff_UntilItsSessionEnds()
    {
        await using var first = await Store.HoldRunAsync("run-held", default);
        var second = await Store.HoldRunAsync("run-held", default);
        await using var other = await Store.HoldRunAsync("run-other", default);

        Assert.NotNull(first);
        Assert.Null(second);
        Assert.NotNull(other);

        // The session that holds it dies, as a node killed with -9 does: the run is free at once.
        await using (var admin = new NpgsqlConnection(_connectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = hashtext('run-held')::oid AND granted", admin);
            await kill.ExecuteNonQueryAsync();
        }

        await using var afterDeath = await Store.HoldRunAsync("run-held", default);
        Assert.NotNull(afterDeath);
    }
}
