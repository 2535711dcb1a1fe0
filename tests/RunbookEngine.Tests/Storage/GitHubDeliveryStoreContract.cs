using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
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
    public async Task A_check_on_a_commit_is_claimed_by_one_node_of_those_racing_for_it_and_can_be_given_up()
    {
        await using var other = OtherNode();
        var commit = new string('a', 40);

        // Both nodes ask at once, as two nodes that fetched the same commit within a second do.
        var claims = await Task.WhenAll(
            Store.ClaimGitHubCheckAsync(commit, "runbooks", "node-a", default),
            other.ClaimGitHubCheckAsync(commit, "runbooks", "node-b", default));
        var otherName = await other.ClaimGitHubCheckAsync(commit, "lint", "node-b", default);
        await other.ReleaseGitHubCheckAsync(commit, "runbooks", claims[0] ? "node-b" : "node-a", default);
        var afterReleaseByNonOwner = await other.ClaimGitHubCheckAsync(commit, "runbooks", "node-b", default);
        await Store.ReleaseGitHubCheckAsync(commit, "runbooks", claims[0] ? "node-a" : "node-b", default);
        var afterRelease = await other.ClaimGitHubCheckAsync(commit, "runbooks", "node-c", default);

        Assert.Equal(1, claims.Count(c => c));
        Assert.True(otherName, "a check of another name on the same commit was refused");
        Assert.False(afterReleaseByNonOwner, "a node gave up a claim it did not hold");
        Assert.True(afterRelease, "a claim given up by its node was not free again");
    }

    [Fact]
    public async Task A_claim_whose_node_died_before_posting_is_taken_over_after_the_lease_and_a_posted_one_never()
    {
        await using var other = OtherNode();
        var crashed = new string('b', 40);
        var posted = new string('c', 40);
        await Store.ClaimGitHubCheckAsync(crashed, "runbooks", "node-a", default);
        await Store.ClaimGitHubCheckAsync(posted, "runbooks", "node-a", default);
        await Store.MarkGitHubCheckPostedAsync(posted, "runbooks", "node-a", default);

        Time.Advance(SqlRunStore.GitHubCheckLease / 2);
        var withinLease = await other.ClaimGitHubCheckAsync(crashed, "runbooks", "node-b", default);
        Time.Advance(SqlRunStore.GitHubCheckLease);
        var takenOver = await Task.WhenAll(
            other.ClaimGitHubCheckAsync(crashed, "runbooks", "node-b", default),
            Store.ClaimGitHubCheckAsync(crashed, "runbooks", "node-c", default));
        var postedTakenOver = await other.ClaimGitHubCheckAsync(posted, "runbooks", "node-b", default);

        Assert.False(withinLease, "a claim was taken over while its lease held");
        Assert.Equal(1, takenOver.Count(c => c));
        Assert.False(postedTakenOver, "a claim whose check was posted was taken over");
    }

    [Fact]
    public async Task Retention_forgets_check_claims_older_than_the_history_it_keeps_and_only_those()
    {
        var old = new string('d', 40);
        var young = new string('e', 40);
        await Store.ClaimGitHubCheckAsync(old, "runbooks", "node-a", default);
        await Store.MarkGitHubCheckPostedAsync(old, "runbooks", "node-a", default);
        Time.Advance(TimeSpan.FromDays(10));
        await Store.ClaimGitHubCheckAsync(young, "runbooks", "node-a", default);
        await Store.MarkGitHubCheckPostedAsync(young, "runbooks", "node-a", default);
        Time.Advance(TimeSpan.FromDays(3));
        var retention = new RunHistoryRetention(
            Store,
            Options.Create(new RunbookEngineOptions { Retention = { MaxAge = TimeSpan.FromDays(7), Pause = TimeSpan.Zero } }),
            Time,
            NullLogger<RunHistoryRetention>.Instance);

        var pass = await retention.PassAsync(default);

        Assert.Equal(1, pass.GitHubChecks);
        Assert.True(await Store.ClaimGitHubCheckAsync(old, "runbooks", "node-b", default), "the old claim was not forgotten");
        Assert.False(await Store.ClaimGitHubCheckAsync(young, "runbooks", "node-b", default), "the young claim was forgotten");
    }

    [Fact]
    public async Task A_versions_pull_request_read_from_the_api_is_kept_and_one_without_stays_without()
    {
        var fromApi = new RunbookVersion("greet", new string('1', 64), new string('a', 40), "Ada <ada@example.com>", Time.GetUtcNow(), "Greet", true, [], [new VersionFile("greet.csx", "// x")], Time.GetUtcNow()) { PullRequest = 7 };
        var without = fromApi with { ContentHash = new string('2', 64), PullRequest = null };

        await Store.RecordVersionAsync(fromApi, default);
        await Store.RecordVersionAsync(without, default);

        Assert.Equal(7, (await Store.GetVersionAsync("greet", fromApi.ContentHash, default))!.PullRequest);
        Assert.Null((await Store.GetVersionAsync("greet", without.ContentHash, default))!.PullRequest);
        Assert.Equal([null, 7], (await Store.ListVersionsAsync("greet", default)).OrderBy(v => v.ContentHash, StringComparer.Ordinal).Select(v => v.PullRequest).Reverse());
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
