using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace RunbookEngine.IntegrationTests;

/// <summary>Manual steps and approvals in the host: a run rests until a person answers, and what that costs is measured.</summary>
public sealed partial class people_in_the_loop(ITestOutputHelper output) : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync(
        new Dictionary<string, string> { ["RunbookEngine__Roles__lead__0"] = "carol" },
        new Dictionary<string, string>
        {
            ["prune-snapshots"] = HostWorkspace.Example("prune-snapshots.csx"),
            ["lib/common"] = HostWorkspace.Example("lib/common.csx"),
        });

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task the_example_approval_runbook_rests_through_a_restart_is_answered_through_the_api_and_its_toil_adds_up()
    {
        var snapshots = Directory.CreateDirectory(Path.Combine(_workspace.Root, "snapshots")).FullName;
        for (var i = 0; i < 4; i++)
        {
            File.WriteAllText(Path.Combine(snapshots, $"snap-{i}.db"), new string('x', 1000));
        }

        var (status, started) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/prune-snapshots/runs", new { parameters = new { dir = snapshots, keep = 1 }, by = "alice" });
        Assert.Equal(202, status);
        var runId = started.GetProperty("runId").GetString()!;
        var manual = await Http.WaitingStepAsync(runId, 2);

        // Resting holds no thread and survives the host going away.
        await _workspace.RestartAsync();
        var afterRestart = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");
        Assert.Equal("WaitingForHuman", afterRestart.Body.Status());

        var (pickupStatus, pickedUp) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/pickup", new { by = "bob" });
        var (doneStatus, done) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "bob", comment = "off-site copy verified" });
        await Http.WaitingStepAsync(runId, 3);
        var (approvalPickup, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/3/pickup", new { by = "bob" });
        var (sameStatus, same) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/3/complete", new { by = "alice" });
        var (approveStatus, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/3/complete", new { by = "bob" });
        var run = await Http.TerminalRunAsync(runId);

        Assert.Equal((200, 200, 200, 403, 200), (pickupStatus, doneStatus, approvalPickup, sameStatus, approveStatus));
        Assert.Contains("someone other than alice", same.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(("bob", "off-site copy verified"), (done.GetProperty("actor").GetString(), done.GetProperty("comment").GetString()));
        Assert.Equal("Succeeded", run.Status());
        Assert.Single(Directory.GetFiles(snapshots));

        // By hand: baseline 20 (manual_minutes); the Manual step and the approval each count from pickup to
        // completion. Saved = 20 - human.
        var step2 = run.GetProperty("steps")[1];
        var step3 = run.GetProperty("steps")[2];
        var human = (Time(step2, "finishedAt") - Time(step2, "pickedUpAt")).TotalMinutes + (Time(step3, "finishedAt") - Time(step3, "pickedUpAt")).TotalMinutes;
        var saved = 20 - human;
        output.WriteLine($"asked at {Time(manual, "startedAt"):O}, picked up at {Time(pickedUp, "pickedUpAt"):O}, done at {Time(step2, "finishedAt"):O}: {human:0.####} human minutes, {saved:0.####} saved");

        var (_, report) = await Http.SendAsync(HttpMethod.Get, "/api/toil?from=1h&groupBy=runbook");
        var group = report.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("key").GetString() == "prune-snapshots");
        Assert.Equal((1, 1, 1.0), (group.GetProperty("runs").GetInt32(), group.GetProperty("succeeded").GetInt32(), group.GetProperty("successRate").GetDouble()));
        Assert.Equal(Math.Round(saved, 2, MidpointRounding.AwayFromZero), group.GetProperty("minutesSaved").GetDouble());
        Assert.Equal(Math.Round(human, 2, MidpointRounding.AwayFromZero), group.GetProperty("humanMinutes").GetDouble());
        Assert.Equal(saved, run.GetProperty("toil").GetProperty("savedMinutes").GetDouble(), 9);

        var metrics = await MetricsAsync();
        Assert.Equal(saved, metrics[("runbookengine_minutes_saved_total", "runbook=\"prune-snapshots\"")], 9);
        Assert.Equal(human, metrics[("runbookengine_human_minutes_total", "runbook=\"prune-snapshots\"")], 9);
        Assert.Equal(1, metrics[("runbookengine_runs_total", "runbook=\"prune-snapshots\",status=\"Succeeded\"")]);
        Assert.Equal(0, metrics[("runbookengine_runs_active", "status=\"WaitingForHuman\"")]);
    }

    [Fact]
    public async Task alerts_no_runbook_handles_are_ranked_by_what_they_cost_people()
    {
        var ids = new List<string>();
        foreach (var (name, fingerprint) in new[] { ("CertExpiring", "c1"), ("QueueStuck", "q1"), ("CertExpiring", "c2"), ("CertExpiring", "c3") })
        {
            ids.AddRange(await Http.PostGenericAsync(new { name, fingerprint }));
        }

        foreach (var id in ids)
        {
            Assert.Equal("Unautomated", (await Http.SettledAlertAsync(id)).Outcome());
        }

        var (status, ranking) = await Http.SendAsync(HttpMethod.Get, "/api/toil/unautomated?from=1h");
        var alerts = ranking.GetProperty("alerts").EnumerateArray()
            .Select(a => (a.GetProperty("rank").GetInt32(), a.GetProperty("alert").GetString(), a.GetProperty("count").GetInt64(), a.GetProperty("estimatedMinutes").GetDouble()))
            .ToList();
        var metrics = await MetricsAsync();

        Assert.Equal(200, status);
        Assert.Equal([(1, "CertExpiring", 3L, 45.0), (2, "QueueStuck", 1L, 15.0)], alerts);
        Assert.Equal(4, metrics[("runbookengine_alerts_received_total", "source=\"generic\"")]);
    }

    [Fact]
    public async Task an_approval_nobody_answers_in_time_fails_the_run_on_its_deadline()
    {
        var runId = await Http.TriggerAsync("gated", new { wait = "2s" });

        var run = await Http.TerminalRunAsync(runId);
        var approval = run.GetProperty("steps")[1];

        Assert.Equal("Failed", run.Status());
        Assert.Equal(("TimedOut", "nobody answered within 2s"), (approval.GetProperty("status").GetString(), approval.GetProperty("error").GetString()));
    }

    [Fact]
    public async Task an_approval_that_needs_a_role_refuses_others_and_a_rejection_fails_the_run()
    {
        var runId = await Http.TriggerAsync("gated", new { });
        await Http.WaitingStepAsync(runId, 2);

        var (outsider, refusal) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "dave" });
        var (nobody, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { });
        var (automated, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/1/complete", new { by = "carol" });
        var (rejected, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "carol", reject = true, comment = "not during the freeze" });
        var (again, twice) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/2/complete", new { by = "carol" });
        var run = await Http.TerminalRunAsync(runId);

        Assert.Equal((403, 400, 409, 200, 409), (outsider, nobody, automated, rejected, again));
        Assert.Contains("role 'lead'", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("already rejected by carol", twice.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("Failed", run.Status());
        Assert.Equal("rejected by carol: not during the freeze", run.GetProperty("run").GetProperty("error").GetString());
        Assert.Equal(2, run.GetProperty("steps").GetArrayLength());
    }

    [Fact]
    public async Task cancelling_a_run_that_waits_closes_its_question()
    {
        var runId = await Http.TriggerAsync("gated", new { });
        await Http.WaitingStepAsync(runId, 2);

        var (cancelled, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel");
        var (_, run) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");

        Assert.True(cancelled == 200, $"cancel answered {cancelled}; host log:\n{_workspace.Host.Log}");
        Assert.Equal(("Cancelled", "Cancelled"), (run.Status(), run.GetProperty("steps")[1].GetProperty("status").GetString()));
    }

    private static DateTimeOffset Time(JsonElement element, string property) =>
        DateTimeOffset.Parse(element.GetProperty(property).GetString()!, CultureInfo.InvariantCulture);

    /// <summary>Reads /metrics, checking every line against Prometheus' text format, into (name, labels) → value.</summary>
    private async Task<Dictionary<(string Name, string Labels), double>> MetricsAsync()
    {
        using var response = await Http.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("0.0.4", response.Content.Headers.ContentType?.Parameters.Single(p => p.Name == "version").Value);

        var typed = new HashSet<string>(StringComparer.Ordinal);
        var samples = new Dictionary<(string, string), double>();
        foreach (var line in text.Split('\n').Where(l => l.Length > 0))
        {
            if (line.StartsWith('#'))
            {
                var comment = CommentLine().Match(line);
                Assert.True(comment.Success, $"not a HELP or TYPE line: {line}");
                if (comment.Groups[1].Value == "TYPE")
                {
                    Assert.True(typed.Add(comment.Groups[2].Value), $"{comment.Groups[2].Value} is typed twice");
                }

                continue;
            }

            var sample = SampleLine().Match(line);
            Assert.True(sample.Success, $"not a sample line: {line}");
            var name = sample.Groups["name"].Value;
            Assert.Contains(typed, family => name == family || (name.StartsWith(family, StringComparison.Ordinal) && name[family.Length..] is "_bucket" or "_sum" or "_count"));
            Assert.True(samples.TryAdd((name, sample.Groups["labels"].Value), double.Parse(sample.Groups["value"].Value.Replace("+Inf", "Infinity", StringComparison.Ordinal), CultureInfo.InvariantCulture)), $"duplicate sample: {line}");
        }

        return samples;
    }

    [GeneratedRegex(@"^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$")]
    private static partial Regex CommentLine();

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*"(,[a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*")*)\})? (?<value>-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|\+Inf|NaN)$""")]
    private static partial Regex SampleLine();
}
