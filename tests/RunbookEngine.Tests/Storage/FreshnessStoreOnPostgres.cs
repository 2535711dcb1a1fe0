using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Storage;

public sealed class FreshnessStoreOnPostgres : FreshnessStoreContract
{
    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        return SqlRunStore.Postgres(await server.CreateDatabaseAsync(nameof(FreshnessStoreOnPostgres)), Time);
    }
}
