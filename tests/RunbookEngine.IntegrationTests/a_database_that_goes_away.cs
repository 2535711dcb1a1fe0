using System.Text;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>A host on a PostgreSQL of its own, which the test stops under it and starts again.</summary>
public sealed class a_database_that_goes_away : IAsyncLifetime
{
    private PostgresServer _server = null!;
    private HostWorkspace _host = null!;

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartOwnAsync();
        var database = await _server.CreateDatabaseAsync(nameof(a_database_that_goes_away));
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = database,
            ["RunbookEngine__NodeId"] = "lonely",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _server.StopAsync();
    }

    [Fact]
    public async Task makes_webhooks_answer_503_so_senders_retry_and_loses_nothing_once_it_is_back()
    {
        var work = Directory.CreateTempSubdirectory("runbook-dbdown-").FullName;
        var alert = Encoding.UTF8.GetBytes($$"""{"name": "DiskFull", "labels": {"instance": "db-down:9100", "severity": "critical"}, "annotations": {"work": "{{work}}"}, "startsAt": "2026-11-24T03:00:00Z"}""");

        await _server.StopAsync();
        var (downStatus, down) = await _host.Http.PostHookAsync("generic", alert);
        var (readyStatus, _) = await _host.Http.SendAsync(HttpMethod.Get, "/readyz");
        await _server.RestartAsync();

        Assert.Equal(503, downStatus);
        Assert.Contains("retry", down.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(503, readyStatus);

        // As Alertmanager would: the same body again until it is taken. Pooled connections broken by the restart may
        // cost an attempt or two.
        var (status, body) = (0, default(System.Text.Json.JsonElement));
        for (var attempt = 0; attempt < 20 && status != 202; attempt++)
        {
            (status, body) = await _host.Http.PostHookAsync("generic", alert);
        }

        Assert.True(status == 202, $"{status}: {body}\n{_host.Host.Log}");
        var stored = await _host.Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        Assert.Equal("Started", stored.Outcome());
        Assert.NotNull(stored.Decisions().Single().RunId);
        Assert.Equal(1, await _host.Http.AlertCountAsync());

        // Whether that run then executes promptly after the outage is the scheduler's recovery, not ingest; one CI run
        // saw it stay queued for over two minutes, which is under investigation (see the alert issue's closing note).
    }
}
