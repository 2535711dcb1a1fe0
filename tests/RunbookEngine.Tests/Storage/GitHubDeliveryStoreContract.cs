using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Retention;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Storage;

/// <summary>GitHub delivery ids remembered for the whole cluster, on each database, until retention forgets them.</summary>
public abstract class GitHubDeliveryStoreContract : StoreContract
{
    /// <summary>Another node's store on the same database.</summary>
    protected abstract SqlRunStore OtherNode();

    [Fact]
    public async Task A_delivery_is_new_once_and_known_afterwards_to_every_node_on_the_database()
    {
        await using var other = OtherNode();

        var first = await Store.RememberGitHubDeliveryAsync("72d3162e-cc78-11e3-81ab-4c9367dc0958", default);
        var again = await Store.RememberGitHubDeliveryAsync("72d3162e-cc78-11e3-81ab-4c9367dc0958", default);
        var elsewhere = await other.RememberGitHubDeliveryAsync("72d3162e-cc78-11e3-81ab-4c9367dc0958", default);
        var another = await other.RememberGitHubDeliveryAsync("8a1f0c2e-cc78-11e3-81ab-4c9367dc0958", default);

        Assert.Equal((true, false, false, true), (first, again, elsewhere, another));
    }

    [Fact]
    public async Task Retention_forgets_deliveries_older_than_the_history_it_keeps_and_only_those()
    {
        await Store.RememberGitHubDeliveryAsync("old", default);
        Time.Advance(TimeSpan.FromDays(10));
        await Store.RememberGitHubDeliveryAsync("young", default);
        Time.Advance(TimeSpan.FromDays(3));
        var retention = new RunHistoryRetention(
            Store,
            Options.Create(new RunbookEngineOptions { Retention = { MaxAge = TimeSpan.FromDays(7), Pause = TimeSpan.Zero } }),
            Time,
            NullLogger<RunHistoryRetention>.Instance);

        var pass = await retention.PassAsync(default);

        Assert.Equal(1, pass.GitHubDeliveries);
        Assert.True(await Store.RememberGitHubDeliveryAsync("old", default), "the old delivery was not forgotten");
        Assert.False(await Store.RememberGitHubDeliveryAsync("young", default), "the young delivery was forgotten");
    }
}

public sealed class GitHubDeliveryStoreOnSqlite : GitHubDeliveryStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));

    protected override SqlRunStore OtherNode() => SqlRunStore.Sqlite(_path, Time);
}

public sealed class GitHubDeliveryStoreOnPostgres : GitHubDeliveryStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _connectionString = await server.CreateDatabaseAsync(nameof(GitHubDeliveryStoreOnPostgres));
        return SqlRunStore.Postgres(_connectionString, Time);
    }

    protected override SqlRunStore OtherNode() => SqlRunStore.Postgres(_connectionString, Time);
}
