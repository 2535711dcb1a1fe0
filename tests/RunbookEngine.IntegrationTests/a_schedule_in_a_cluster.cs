using System.Text.Json;
namespace RunbookEngine.IntegrationTests;

/// <summary>A runbook with a cron schedule, loaded by two clustered nodes.</summary>
public sealed class a_schedule_in_a_cluster : IAsyncLifetime
{
    private const string EveryMinute = """
        // ---
        // description: Runs every minute
        // schedule: "* * * * *"
        // ---
        await Step("tick", ct => Task.CompletedTask);
        """;

    private readonly List<HostWorkspace> _nodes = [];

    public async Task InitializeAsync() => _nodes.AddRange(await HostWorkspace.StartClusterAsync(nameof(a_schedule_in_a_cluster), 2, new Dictionary<string, string> { ["every-minute"] = EveryMinute }));

    public Task DisposeAsync() => HostWorkspace.DisposeAllAsync(_nodes);

    [Fact]
    public async Task fires_once_per_occurrence_whichever_node_takes_it()
    {
        var (_, runbook) = await _nodes[0].Http.SendAsync(HttpMethod.Get, "/api/runbooks/every-minute");
        Assert.Equal("* * * * *", runbook.GetProperty("schedule").GetString());
        Assert.Equal(JsonValueKind.String, runbook.GetProperty("nextScheduledAt").ValueKind);

        // Two occurrences, so both nodes had the chance to fire each; a minute boundary is at most 60 s away.
        using var tick = new PeriodicTimer(TimeSpan.FromSeconds(1));
        var runs = new List<JsonElement>();
        for (var i = 0; i < 180 && runs.Select(Occurrence).Distinct().Count() < 2; i++)
        {
            await tick.WaitForNextTickAsync();
            var (_, page) = await _nodes[i % 2].Http.SendAsync(HttpMethod.Get, "/api/runs?runbook=every-minute&limit=50");
            runs = [.. page.GetProperty("runs").EnumerateArray()];
        }

        var byOccurrence = runs.GroupBy(Occurrence).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(byOccurrence.Count >= 2, $"saw occurrences: {string.Join(", ", byOccurrence.Keys)}");
        Assert.All(byOccurrence, occurrence => Assert.Equal(1, occurrence.Value));
        Assert.All(runs, run => Assert.Equal("Schedule", run.GetProperty("trigger").GetString()));
    }

    private static string Occurrence(JsonElement run) => run.GetProperty("triggeredBy").GetString()!;
}
