using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Storage;

public sealed class IncidentStoreOnPostgres : IncidentStoreContract
{
    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        return SqlRunStore.Postgres(await server.CreateDatabaseAsync(nameof(IncidentStoreOnPostgres)), Time);
    }
}
