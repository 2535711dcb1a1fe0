using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A storm is mostly alerts nobody automated: they are settled in the webhook's own transaction, so the matchers only
/// see alerts that may start a run, and a backlog left pending (a node that died mid-storm) is settled in batches.
/// </summary>
public sealed class an_alert_storm
{
    [Fact]
    public async Task noise_is_settled_as_unautomated_before_the_sender_is_answered()
    {
        await using var host = await HostWorkspace.StartAsync();
        var noise = Enumerable.Range(0, 40).Select(i => new { name = "StormNoise", labels = new { instance = $"noise-{i}:9100" } });
        var work = Directory.CreateTempSubdirectory("runbook-storm-").FullName;
        var wanted = new { name = "DiskFull", labels = new { instance = "storm-1:9100", severity = "critical" }, annotations = new { work } };

        var (status, body) = await host.Http.PostHookAsync("generic", JsonSerializer.SerializeToUtf8Bytes(new { alerts = noise.Cast<object>().Append(wanted) }));

        Assert.Equal(202, status);
        var answered = body.GetProperty("alerts").EnumerateArray().Select(a => (Id: a.GetProperty("id").GetString()!, Outcome: a.GetProperty("outcome").GetString())).ToList();
        Assert.Equal([.. Enumerable.Repeat("unautomated", 40), "pending"], answered.Select(a => a.Outcome));

        // Already settled when the answer left: no matcher had to touch it.
        var (_, first) = await host.Http.SendAsync(HttpMethod.Get, $"/api/alerts/{answered[0].Id}");
        Assert.Equal(("Unautomated", "no runbook's alerts: rules match generic alert 'StormNoise'"),
            (first.GetProperty("alert").GetProperty("outcome").GetString(), first.GetProperty("alert").GetProperty("detail").GetString()));
        Assert.Empty(first.GetProperty("decisions").EnumerateArray());

        var started = await host.Http.SettledAlertAsync(answered[^1].Id);
        Assert.Equal("Started", started.Outcome());
        Assert.Equal("Succeeded", (await host.Http.EndedRunAsync(started.Decisions().Single().RunId!)).Status());
    }

    [Fact]
    public async Task a_backlog_left_pending_is_settled_in_batches_and_starts_each_run_once()
    {
        await using var host = await HostWorkspace.StartAsync();
        var work = Directory.CreateTempSubdirectory("runbook-storm-").FullName;
        var noise = Enumerable.Range(0, 1_200).Select(i => (object)new { name = "BacklogNoise", labels = new { instance = $"noise-{i}:9100" } });
        var wanted = new { name = "DiskFull", labels = new { instance = "backlog-1:9100", severity = "critical" }, annotations = new { work } };
        var ids = await host.Http.PostGenericAsync(new { alerts = noise.Append(wanted) });
        var firstMatch = await host.Http.SettledAlertAsync(ids[^1]);
        var runId = firstMatch.Decisions().Single().RunId!;
        await host.Http.EndedRunAsync(runId);

        // As a node would leave them if it died mid-storm before settling anything: pending, received a minute ago.
        var database = Path.Combine(host.Root, "data", "runs.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            await using var reset = connection.CreateCommand();
            reset.CommandText = "UPDATE runbook_alerts SET outcome = 'Pending', detail = NULL, received_at = received_at - 60000 WHERE delivery = (SELECT delivery FROM runbook_alerts WHERE id = $id)";
            reset.Parameters.AddWithValue("$id", ids[0]);
            Assert.Equal(1_201, await reset.ExecuteNonQueryAsync());
        }

        var settled = await host.Http.SettledAlertAsync(ids[^1]);
        foreach (var id in new[] { ids[0], ids[599], ids[1_199] })
        {
            Assert.Equal("Unautomated", (await host.Http.SettledAlertAsync(id)).Outcome());
        }

        var (_, pending) = await host.Http.SendAsync(HttpMethod.Get, "/api/alerts?outcome=Pending");
        Assert.Empty(pending.GetProperty("alerts").EnumerateArray());
        Assert.Equal(("Started", runId), (settled.Outcome(), settled.Decisions().Single().RunId));
        var (_, runs) = await host.Http.SendAsync(HttpMethod.Get, "/api/runs?runbook=on-disk-full");
        Assert.Single(runs.GetProperty("runs").EnumerateArray(), r => r.TryGetProperty("alertId", out var alert) && alert.ValueKind == JsonValueKind.String && alert.GetString() == ids[^1]);
    }
}
