using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Drills started through the API on the embedded host: a shadow run against a test case's alert that proves the
/// runbook still works, or a Failed drill run saying why not; and the freshness the API, the dashboard and /metrics
/// judge from them.
/// </summary>
public sealed class drills_and_freshness : IAsyncLifetime
{
    // Its probe only reads; restarting changes something, so a drill (always shadow) proposes it and stops.
    private const string Probed = """
        // ---
        // description: Restarts a service whose probe fails
        // owner: sre
        // manual_minutes: 20
        // alerts:
        //   - name: ServiceDown
        // parameters:
        //   probe: { type: string, required: true }
        //   marker: { type: string, required: true }
        //   instance: { type: string, required: true, from: "labels.instance" }
        // drill: { schedule: "0 6 * * 1", case: service-down }
        // ---
        var instance = Params.Get<string>("instance");
        await Step("probe " + instance, ct => Shell(Params.Get<string>("probe"), [instance], ct, readOnly: true, check: true));
        await Step("restart", ct => File.WriteAllTextAsync(Params.Get<string>("marker"), "restarted", ct), sideEffects: true);
        """;

    private const string Inspect = """
        // ---
        // description: Looks at a queue and changes nothing
        // owner: sre
        // manual_minutes: 20
        // alerts:
        //   - name: QueueDeep
        // drill: { schedule: "30 6 * * *", case: deep }
        // ---
        await Step("look", ct => Shell("echo", ["depth 3"], ct, readOnly: true, check: true));
        """;

    private const string Renamed = """
        // ---
        // description: Its alert was renamed since its case was written
        // owner: sre
        // alerts:
        //   - name: DiskAlmostFull
        //     labels: { severity: "critical" }
        // drill: { schedule: "0 6 * * 1", case: old-name }
        // ---
        await Step("look", ct => Task.CompletedTask);
        """;

    private const string Unbound = """
        // ---
        // description: Its parameter now comes from a label the alert does not carry
        // owner: sre
        // alerts:
        //   - name: NodeDown
        // parameters:
        //   node: { type: string, required: true, from: "labels.hostname" }
        // drill: { schedule: "0 6 * * 1", case: node-down }
        // ---
        await Step("look", ct => Task.CompletedTask);
        """;

    private const string OverdueReview = """
        // ---
        // description: Nobody has looked at it since 2019
        // owner: sre
        // review_by: 2020-01-31
        // ---
        await Step("look", ct => Task.CompletedTask);
        """;

    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync(extraRunbooks: new Dictionary<string, string>
    {
        ["probed"] = Probed,
        ["inspect"] = Inspect,
        ["renamed"] = Renamed,
        ["unbound"] = Unbound,
        ["overdue-review"] = OverdueReview,
    });

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task a_drill_proposes_the_side_effect_after_its_probe_works_and_fails_once_the_probed_command_vanished_making_the_runbook_stale()
    {
        var probe = Path.Combine(_workspace.Root, "check-service.sh");
        var marker = Path.Combine(_workspace.Root, "restarted");
        await File.WriteAllTextAsync(probe, "#!/bin/sh\necho \"$1 answers\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(probe, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        await WriteCaseAsync("probed", "service-down", $$"""
            alert: { name: ServiceDown, source: alertmanager, labels: { instance: web-1 } }
            parameters: { probe: "{{probe}}", marker: "{{marker}}" }
            """);

        var passed = await Http.EndedRunAsync(await DrillAsync("probed"));

        Assert.Equal("Proposed", passed.Status());
        Assert.Equal(("Drill", "Shadow"), (passed.GetProperty("run").GetProperty("trigger").GetString(), passed.GetProperty("run").GetProperty("mode").GetString()));
        Assert.Equal(("probe web-1", "Succeeded"), (passed.Steps()[0].Name, passed.Steps()[0].Status));
        Assert.Contains("web-1 answers\n", passed.Steps()[0].Output, StringComparison.Ordinal);
        Assert.False(File.Exists(marker), "a drill must not restart anything");
        Assert.Equal("fresh", (await FreshnessAsync("probed")).GetProperty("state").GetString());

        // The probed program is gone (uninstalled, renamed): the next drill says so.
        File.Delete(probe);
        var failed = await Http.EndedRunAsync(await DrillAsync("probed"));

        Assert.Equal("Failed", failed.Status());
        var error = failed.GetProperty("run").GetProperty("error").GetString()!;
        Assert.Contains("cannot start", error, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", error, StringComparison.Ordinal);
        Assert.Contains("check-service.sh", error, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));

        var freshness = await FreshnessAsync("probed");
        Assert.Equal("stale", freshness.GetProperty("state").GetString());
        var reason = freshness.GetProperty("reasons")[0].GetString()!;
        Assert.StartsWith("the latest drill failed at ", reason, StringComparison.Ordinal);
        Assert.Contains(failed.GetProperty("run").GetProperty("id").GetString()!, reason, StringComparison.Ordinal);
        Assert.Contains("No such file or directory", reason, StringComparison.Ordinal);
        var facts = freshness.GetProperty("facts");
        Assert.Equal(JsonValueKind.String, facts.GetProperty("lastPassingDrillAt").ValueKind);
        Assert.Equal(JsonValueKind.String, facts.GetProperty("lastFailingDrillAt").ValueKind);
        Assert.False(facts.TryGetProperty("lastSuccessAt", out _), "a drill is not a successful run");
        Assert.Equal("sre", facts.GetProperty("owner").GetString());

        var metrics = await MetricsAsync();
        Assert.Contains("runbookengine_runbook_freshness{runbook=\"probed\"} 2", metrics, StringComparison.Ordinal);
        Assert.Contains("runbookengine_drills_total{runbook=\"probed\",result=\"passed\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("runbookengine_drills_total{runbook=\"probed\",result=\"failed\"} 1", metrics, StringComparison.Ordinal);

        var page = await Http.GetStringAsync("/runbooks/probed");
        Assert.Contains("id=\"drills\"", page, StringComparison.Ordinal);
        Assert.Contains("badge s-stale", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_drill_of_a_runbook_that_changes_nothing_succeeds_and_saves_no_toil()
    {
        await WriteCaseAsync("inspect", "deep", "alert: { name: QueueDeep }\n");

        var run = await Http.EndedRunAsync(await DrillAsync("inspect"));

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(0, run.GetProperty("toil").GetProperty("savedMinutes").GetDouble());
        Assert.Equal(0, run.GetProperty("toil").GetProperty("baselineMinutes").GetDouble());

        // Whether the toil report lists drill runs at all is the toil calculator's; that they save nothing is the drill's.
        var (_, report) = await Http.SendAsync(HttpMethod.Get, "/api/toil?from=1h&groupBy=runbook");
        Assert.Equal(0, report.GetProperty("total").GetProperty("minutesSaved").GetDouble());
        Assert.Equal(0, report.GetProperty("total").GetProperty("baselineMinutes").GetDouble());
        Assert.Equal("fresh", (await FreshnessAsync("inspect")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task a_drill_fails_when_its_alert_no_longer_matches_or_a_parameter_no_longer_binds_and_each_runbook_has_its_drill_job()
    {
        await WriteCaseAsync("renamed", "old-name", "alert: { name: DiskFull, labels: { severity: critical } }\n");
        await WriteCaseAsync("unbound", "node-down", "alert: { name: NodeDown, labels: { instance: web-1 } }\n");

        var (renamedStatus, renamed) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/renamed/drills");
        var (unboundStatus, unbound) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/unbound/drills");

        Assert.Equal((202, "Failed"), (renamedStatus, renamed.GetProperty("status").GetString()));
        Assert.StartsWith("the drill's alert no longer matches the runbook's alerts: rules: alert DiskFull from generic", renamed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal((202, "Failed"), (unboundStatus, unbound.GetProperty("status").GetString()));
        Assert.StartsWith("a parameter no longer binds: parameter 'node': required, and no value was given", unbound.GetProperty("error").GetString(), StringComparison.Ordinal);
        var stored = await Http.EndedRunAsync(unbound.GetProperty("runId").GetString()!);
        Assert.Equal(("Drill", "Failed"), (stored.GetProperty("run").GetProperty("trigger").GetString(), stored.Status()));
        Assert.Equal("stale", (await FreshnessAsync("unbound")).GetProperty("state").GetString());

        var recurring = await Http.GetStringAsync("/hangfire/recurring");
        foreach (var id in new[] { "drill:probed", "drill:inspect", "drill:renamed", "drill:unbound" })
        {
            Assert.Contains(id, recurring, StringComparison.Ordinal);
        }

        Assert.Contains("30 6 * * *", recurring, StringComparison.Ordinal);
        Assert.DoesNotContain("drill:overdue-review", recurring, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_runbook_past_its_review_date_is_stale_on_the_api_the_dashboard_and_metrics()
    {
        var (_, all) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks");
        var freshness = all.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "overdue-review").GetProperty("freshness");

        Assert.Equal("stale", freshness.GetProperty("state").GetString());
        Assert.Contains("its review_by date 2020-01-31 has passed: someone should check it still fits the systems it fixes, then set a new date",
            freshness.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("2020-01-31", freshness.GetProperty("facts").GetProperty("reviewBy").GetString());
        Assert.All(all.EnumerateArray(), r => Assert.Contains(r.GetProperty("freshness").GetProperty("state").GetString(), new[] { "fresh", "aging", "stale" }));

        // Nothing has run it, but it appeared just now: not stale for that, only "never proven".
        var (_, one) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/inspect");
        Assert.Equal("aging", one.GetProperty("freshness").GetProperty("state").GetString());
        Assert.StartsWith("never proven", one.GetProperty("freshness").GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);

        Assert.Contains("runbookengine_runbook_freshness{runbook=\"overdue-review\"} 2", await MetricsAsync(), StringComparison.Ordinal);
        Assert.Contains("runbookengine_runbook_freshness{runbook=\"inspect\"} 1", await MetricsAsync(), StringComparison.Ordinal);

        var page = await Http.GetStringAsync("/runbooks");
        var row = page[page.IndexOf("data-runbook=\"overdue-review\"", StringComparison.Ordinal)..];
        Assert.Contains("badge s-stale\" title=\"its review_by date 2020-01-31 has passed", row[..row.IndexOf("</tr>", StringComparison.Ordinal)], StringComparison.Ordinal);

        // A drill needs a drill block; a runbook needs to exist.
        var (noDrill, refused) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/overdue-review/drills");
        var (unknown, _) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/no-such-runbook/drills");
        Assert.Equal(400, noDrill);
        Assert.StartsWith("runbook 'overdue-review' has no drill: add a `drill:", refused.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, unknown);
    }

    private async Task<string> DrillAsync(string runbook)
    {
        var (status, body) = await Http.SendAsync(HttpMethod.Post, $"/api/runbooks/{runbook}/drills");
        Assert.True(status == 202, $"drill answered {status}: {body}");
        return body.GetProperty("runId").GetString()!;
    }

    private async Task<JsonElement> FreshnessAsync(string runbook)
    {
        var (status, body) = await Http.SendAsync(HttpMethod.Get, $"/api/runbooks/{runbook}");
        Assert.Equal(200, status);
        return body.GetProperty("freshness");
    }

    private async Task<string> MetricsAsync() => await Http.GetStringAsync("/metrics");

    private async Task WriteCaseAsync(string runbook, string testCase, string yaml)
    {
        var folder = Directory.CreateDirectory(Path.Combine(_workspace.Root, "runbooks", "tests", runbook)).FullName;
        await File.WriteAllTextAsync(Path.Combine(folder, testCase + ".yaml"), yaml);
    }
}
