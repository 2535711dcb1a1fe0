using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

public sealed class IncidentStoreOnSqlite : IncidentStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));
}
