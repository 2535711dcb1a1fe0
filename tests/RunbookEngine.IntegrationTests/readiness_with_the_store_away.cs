using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// <c>/readyz</c> while the store is away: anyone may ask, but only callers the host trusts (on loopback, or holding a token) read the store's own error,
/// which can name the database's host, user and schema. The runbooks list still answers from the catalog.
/// </summary>
public sealed class readiness_with_the_store_away : IAsyncLifetime
{
    private PostgresServer _server = null!;
    private HostWorkspace _guarded = null!;
    private HostWorkspace _trusting = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartOwnAsync();
        _guarded = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = await _server.CreateDatabaseAsync("readiness_guarded"),
            ["RunbookEngine__Access__TrustLoopback"] = "false",
            ["RunbookEngine__Access__Tokens__ops"] = "readiness-token",
        });
        _trusting = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = await _server.CreateDatabaseAsync("readiness_trusting"),
        });
    }

    public async Task DisposeAsync()
    {
        await _guarded.DisposeAsync();
        await _trusting.DisposeAsync();
        await _server.StopAsync();
    }

    [Fact]
    public async Task tells_an_anonymous_caller_only_that_the_store_is_unavailable_and_a_trusted_one_why()
    {
        await _server.StopAsync();
        var (anonymousStatus, anonymous) = await _guarded.Http.SendAsync(HttpMethod.Get, "/readyz");
        var (trustedStatus, trusted) = await _trusting.Http.SendAsync(HttpMethod.Get, "/readyz");
        using var withToken = new HttpRequestMessage(HttpMethod.Get, "/readyz");
        withToken.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "readiness-token");
        using var holderAnswer = await _guarded.Http.SendAsync(withToken);
        var holder = JsonDocument.Parse(await holderAnswer.Content.ReadAsStringAsync()).RootElement;
        await _server.RestartAsync();

        Assert.Equal((503, 503, 503), (anonymousStatus, trustedStatus, (int)holderAnswer.StatusCode));
        Assert.Equal("store: unavailable", StoreProblem(anonymous));
        foreach (var told in new[] { trusted, holder })
        {
            Assert.StartsWith("store: ", StoreProblem(told), StringComparison.Ordinal);
            Assert.NotEqual("store: unavailable", StoreProblem(told));
        }
    }

    [Fact]
    public async Task still_lists_the_runbooks_from_the_catalog_without_their_freshness_or_trust()
    {
        await _server.StopAsync();
        var (status, list) = await _trusting.Http.SendAsync(HttpMethod.Get, "/api/runbooks");
        await _server.RestartAsync();

        Assert.Equal(200, status);
        Assert.NotEmpty(list.EnumerateArray());
        Assert.All(list.EnumerateArray(), r =>
        {
            Assert.True(r.TryGetProperty("name", out _), r.ToString());
            Assert.False(r.TryGetProperty("freshness", out _), r.ToString());
            Assert.False(r.TryGetProperty("trust", out _), r.ToString());
        });
    }

    private static string StoreProblem(JsonElement answer) =>
        answer.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).Single(p => p.StartsWith("store:", StringComparison.Ordinal));
}
