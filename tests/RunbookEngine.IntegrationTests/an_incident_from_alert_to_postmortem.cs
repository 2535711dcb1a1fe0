using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Issue 19's "done when": a real Alertmanager sends one group of three alerts, two runs (one waits for a person's
/// approval) handle two of them, all three resolve, and the incident's timeline, figures and postmortem draft match
/// what was written down by hand beforehand. Times and ids come from a real clock, so they are compared as shapes, and
/// every figure is checked against the timeline events it is defined by.
/// </summary>
public sealed partial class an_incident_from_alert_to_postmortem : IAsyncLifetime
{
    private const string Token = "e2e-incident-token";

    private static readonly Dictionary<string, string> Runbooks = new()
    {
        ["incident-clean"] = """
            // ---
            // description: Frees disk space on the checkout hosts
            // manual_minutes: 10
            // alerts:
            //   - name: CheckoutDiskFull
            // ---
            await Step("free space", ct =>
            {
                Log.Info("looking at /var");
                Log.Info("freed 2 GiB on /var");
                return Task.CompletedTask;
            });
            """,
        ["incident-restart"] = """
            // ---
            // description: Restarts checkout once a person agrees
            // manual_minutes: 15
            // alerts:
            //   - name: CheckoutSlow
            // ---
            await Approve("Restart checkout?");
            await Step("restart", ct =>
            {
                Log.Info("restarted checkout");
                return Task.CompletedTask;
            });
            """,
    };

    private static readonly Dictionary<string, string> Disk = new() { ["alertname"] = "CheckoutDiskFull", ["service"] = "checkout", ["instance"] = "web-1:9100" };
    private static readonly Dictionary<string, string> Slow = new() { ["alertname"] = "CheckoutSlow", ["service"] = "checkout", ["instance"] = "web-2:9100" };
    private static readonly Dictionary<string, string> Errors = new() { ["alertname"] = "CheckoutErrors", ["service"] = "checkout", ["instance"] = "web-3:9100" };

    private HostWorkspace _host = null!;
    private AlertmanagerProcess _alertmanager = null!;

    public async Task InitializeAsync()
    {
        Assert.True(AlertmanagerProcess.IsInstalled, "prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager (tests/run.sh does this)");
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string> { ["RunbookEngine__Alerts__Sources__alertmanager__BearerToken"] = Token }, Runbooks);
        try
        {
            // Grouped by service: the three alerts are one Alertmanager group, so they share its groupKey.
            _alertmanager = await AlertmanagerProcess.StartAsync(new Uri(_host.Host.Address, "/hooks/alertmanager"), Token, groupBy: "service");
        }
        catch
        {
            await _host.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _alertmanager.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task tells_the_story_of_a_group_of_three_alerts_in_its_timeline_figures_and_postmortem()
    {
        // The disk alert first, and its run ended, so the order of the story is fixed where it is written down below.
        await _alertmanager.FireAsync(Disk);
        var opened = await IncidentAsync(i => i.GetProperty("alerts").GetInt32() == 1 ? i : null, "the first alert opened no incident");
        var id = opened.GetProperty("id").GetString()!;
        var cleanRun = (await RunsOfAsync(id, 1))[0];
        Assert.Equal("Succeeded", (await _host.Http.EndedRunAsync(cleanRun)).Status());

        await _alertmanager.FireAsync(Slow);
        await _alertmanager.FireAsync(Errors);
        await IncidentAsync(i => i.GetProperty("id").GetString() == id && i.GetProperty("alerts").GetInt32() == 3 ? i : null, "the other two alerts did not join the incident");
        var restartRun = (await RunsOfAsync(id, 2))[1];
        var approval = await _host.Http.UntilAsync($"/api/runs/{restartRun}", run => run.GetProperty("steps").EnumerateArray()
            .FirstOrDefault(s => s.GetProperty("status").GetString() == "WaitingForHuman") is { ValueKind: JsonValueKind.Object } step ? step : null, "the approval never waited");
        var sequence = approval.GetProperty("sequence").GetInt32();
        var (pickedUp, _) = await _host.Http.SendAsync(HttpMethod.Post, $"/api/runs/{restartRun}/steps/{sequence}/pickup", new { by = "alice" });
        var (approved, _) = await _host.Http.SendAsync(HttpMethod.Post, $"/api/runs/{restartRun}/steps/{sequence}/complete", new { by = "alice", comment = "drained the queue first" });
        Assert.Equal((200, 200), (pickedUp, approved));
        Assert.Equal("Succeeded", (await _host.Http.TerminalRunAsync(restartRun)).Status());

        await _alertmanager.ResolveAsync(Disk);
        await _alertmanager.ResolveAsync(Slow);
        await _alertmanager.ResolveAsync(Errors);
        await IncidentAsync(i => i.GetProperty("id").GetString() == id && i.GetProperty("state").GetString() == "closed" ? i : null, "the incident never closed");

        var (status, detail) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/incidents/{id}");
        Assert.Equal(200, status);
        var timeline = detail.GetProperty("timeline").EnumerateArray().ToList();

        Assert.Equal(ExpectedTimeline.Order(StringComparer.Ordinal), timeline.Select(Line).Order(StringComparer.Ordinal));
        Assert.Equal(timeline.Select(At).Order(), timeline.Select(At));
        Assert.Equal("incident-closed", timeline[^1].GetProperty("kind").GetString());
        Assert.All(timeline.Where(e => e.GetProperty("kind").GetString()!.StartsWith("run-", StringComparison.Ordinal) || e.GetProperty("kind").GetString()!.StartsWith("step-", StringComparison.Ordinal)),
            e => Assert.Contains(e.GetProperty("runId").GetString(), new[] { cleanRun, restartRun }));

        AssertFigures(detail.GetProperty("figures"), detail.GetProperty("incident"), timeline);

        var (_, first) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/incidents/{id}?alerts=1");
        Assert.Equal((1, 2, 3), (first.GetProperty("alerts").GetArrayLength(), first.GetProperty("alertsOmitted").GetInt32(), first.GetProperty("figures").GetProperty("alerts").GetInt32()));

        var markdown = await _host.Http.GetStringAsync(new Uri($"/api/incidents/{id}/postmortem.md", UriKind.Relative));
        var (prose, rows) = Normalised(markdown);
        Assert.Equal(ExpectedPostmortem.ReplaceLineEndings("\n"), prose);
        Assert.Equal(timeline.Count, rows.Count);
        Assert.Equal(ExpectedTimeline.Select(l => l.Split(" | ")).Select(p => $"| <time> | {p[1]} | {Normalise(RunbookEngine.Incidents.MarkdownText.Escape(p[2]))} |").Order(StringComparer.Ordinal), rows.Order(StringComparer.Ordinal));

        var (jsonStatus, json) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/incidents/{id}/postmortem");
        Assert.Equal(200, jsonStatus);
        Assert.Equal(2, json.GetProperty("followUps").GetArrayLength());
        Assert.Equal(detail.GetProperty("figures").GetProperty("timeToResolve").GetString(), json.GetProperty("figures").GetProperty("timeToResolve").GetString());

        var (missing, problem) = await _host.Http.SendAsync(HttpMethod.Get, "/api/incidents/no-such-incident/postmortem.md");
        Assert.Equal((404, "no incident 'no-such-incident'"), (missing, problem.GetProperty("error").GetString()));
        var (_, alert) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/alerts/{timeline[0].GetProperty("alertId").GetString()}");
        var (_, run) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/runs/{restartRun}");
        Assert.Equal((id, id), (alert.GetProperty("alert").GetProperty("incidentId").GetString(), run.GetProperty("incidentId").GetString()));

        // The dashboard: the list links the incident, its page draws every event, and the alert and run pages link back.
        var link = $"href=\"/incidents/{id}\"";
        Assert.Contains(link, await _host.Http.GetStringAsync(new Uri("/incidents?state=closed", UriKind.Relative)), StringComparison.Ordinal);
        var page = await _host.Http.GetStringAsync(new Uri($"/incidents/{id}", UriKind.Relative));
        Assert.Equal(timeline.Count, TimelineItem().Count(page));
        Assert.Contains("<span class=\"actor\">alice</span>", page, StringComparison.Ordinal);
        Assert.Contains(link, await _host.Http.GetStringAsync(new Uri($"/runs/{restartRun}", UriKind.Relative)), StringComparison.Ordinal);
        Assert.Contains(link, await _host.Http.GetStringAsync(new Uri("/alerts", UriKind.Relative)), StringComparison.Ordinal);

        // The toil report's per-incident medians: of one incident, its own figures.
        var (_, toil) = await _host.Http.SendAsync(HttpMethod.Get, "/api/toil?from=1d");
        var medians = toil.GetProperty("incidents");
        var figures = detail.GetProperty("figures");
        Assert.Equal((1, 1), (medians.GetProperty("incidents").GetInt32(), medians.GetProperty("closed").GetInt32()));
        Assert.Equal(Math.Round(TimeSpan.Parse(figures.GetProperty("timeToResolve").GetString()!, CultureInfo.InvariantCulture).TotalMinutes, 2), medians.GetProperty("medianMinutesToResolve").GetDouble());
        Assert.Equal(figures.GetProperty("humanMinutes").GetDouble(), medians.GetProperty("medianHumanMinutes").GetDouble());
        Assert.Contains("id=\"toil-incidents\"", await _host.Http.GetStringAsync(new Uri("/toil", UriKind.Relative)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task refuses_filters_it_cannot_use_with_an_error_that_says_what_to_send()
    {
        var answers = new List<(int, string?)>();
        foreach (var query in new[] { "state=burning", "state=1", "since=yesterday-ish", "until=soon", "since=2026-11-24&until=2026-11-23", "limit=0", "limit=501" })
        {
            var (status, body) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/incidents?{query}");
            answers.Add((status, body.GetProperty("error").GetString()));
        }

        Assert.Equal(
            [
                (400, "state 'burning' is not open or closed"),
                (400, "state '1' is not open or closed"),
                (400, "since 'yesterday-ish' is not an ISO 8601 time (2026-11-24T10:00:00Z) or date, or a duration back from now such as 7d"),
                (400, "until 'soon' is not an ISO 8601 time (2026-11-24T10:00:00Z) or date, or a duration back from now such as 1d"),
                (400, "since must be before until"),
                (400, "limit must be between 1 and 500"),
                (400, "limit must be between 1 and 500"),
            ],
            answers);
        foreach (var alerts in new[] { "0", "501" })
        {
            var (status, body) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/incidents/any?alerts={alerts}");
            Assert.Equal((400, "alerts must be between 1 and 500"), (status, body.GetProperty("error").GetString()));
        }

        var (ok, empty) = await _host.Http.SendAsync(HttpMethod.Get, "/api/incidents?state=OPEN&service=checkout&since=7d&limit=5");
        Assert.Equal((200, 0), (ok, empty.GetProperty("incidents").GetArrayLength()));
    }

    // Written by hand from the story above before the test first ran: kind | actor | text.
    private static readonly string[] ExpectedTimeline =
    [
        "alert-started | alertmanager | CheckoutDiskFull started on web-1:9100",
        "alert-received | alertmanager | CheckoutDiskFull received from alertmanager",
        "decision | automation | incident-clean: started a run",
        "run-queued | automation | incident-clean: run queued",
        "run-started | automation | incident-clean: run started",
        "step-started | automation | incident-clean › free space started",
        "step-ended | automation | incident-clean › free space succeeded: freed 2 GiB on /var",
        "run-ended | automation | incident-clean: run succeeded",
        "alert-started | alertmanager | CheckoutSlow started on web-2:9100",
        "alert-received | alertmanager | CheckoutSlow received from alertmanager",
        "decision | automation | incident-restart: started a run",
        "run-queued | automation | incident-restart: run queued",
        "run-started | automation | incident-restart: run started",
        "step-started | automation | incident-restart › Approve: Restart checkout?: waiting for a person (approval)",
        "step-picked-up | alice | incident-restart › Approve: Restart checkout? picked up",
        "step-answered | alice | incident-restart › Approve: Restart checkout? approved: \"drained the queue first\"",
        "step-started | automation | incident-restart › restart started",
        "step-ended | automation | incident-restart › restart succeeded: restarted checkout",
        "run-ended | automation | incident-restart: run succeeded",
        "alert-started | alertmanager | CheckoutErrors started on web-3:9100",
        "alert-received | alertmanager | CheckoutErrors received from alertmanager",
        "unautomated | automation | CheckoutErrors matches no runbook: a person handles it",
        "alert-resolved | alertmanager | CheckoutDiskFull resolved",
        "alert-resolved | alertmanager | CheckoutSlow resolved",
        "alert-resolved | alertmanager | CheckoutErrors resolved",
        "incident-closed | automation | incident closed: all its alerts resolved",
    ];

    private const string ExpectedPostmortem = """
        # Postmortem: CheckoutDiskFull

        _A blameless draft written by RunbookEngine from incident <id>; edit it before you share it._

        ## Summary

        CheckoutDiskFull on checkout: 3 alerts (CheckoutDiskFull, CheckoutErrors, CheckoutSlow) from alertmanager, started <time> and detected <duration> later. The automation started 2 runs (2 succeeded); 1 person answered 1 step. It was resolved <duration> after it started.

        ## Impact

        - Started: <time> (the sender's start of the first alert)
        - Detected: <time> (time to detect <duration>)
        - First action: <duration> after detection
        - Acknowledged by a person: <duration> after detection
        - Remediated: <duration> after the start
        - Resolved: <time> (time to resolve <duration>)
        - Alerts: 3 (1 matched no runbook)
        - Work: <n> automated minutes, <n> human minutes

        ## Timeline

        | time (UTC) | who | what |
        |---|---|---|

        ## What the automation did

        - `incident-clean` run <id>: succeeded in <duration>; steps: free space (succeeded)
        - `incident-restart` run <id>: succeeded in <duration>; steps: restart (succeeded)

        ## What still needed people

        - `incident-restart` › Approve: Restart checkout? (approval): approved by alice, <n> minutes

        ## Follow-ups

        - [ ] Decide whether `incident-restart` still needs the approval "Approve: Restart checkout?": if its record is good, let it act without one.
        - [ ] Write a runbook for the alert `CheckoutErrors`: no runbook matched it, so a person handled it.

        """;

    /// <summary>Each figure against the events that define it (README, "Incidents and postmortems").</summary>
    private static void AssertFigures(JsonElement figures, JsonElement incident, List<JsonElement> timeline)
    {
        DateTimeOffset First(string kind, string? actor = null) => timeline.Where(e => e.GetProperty("kind").GetString() == kind && (actor is null || e.GetProperty("actor").GetString() == actor)).Select(At).Min();
        TimeSpan Span(string name) => TimeSpan.Parse(figures.GetProperty(name).GetString()!, CultureInfo.InvariantCulture);

        var start = First("alert-started");
        var detected = First("alert-received");
        Assert.Equal(start, figures.GetProperty("startedAt").GetDateTimeOffset());
        Assert.Equal(detected, figures.GetProperty("detectedAt").GetDateTimeOffset());
        Assert.Equal(Max0(detected - start), Span("timeToDetect"));
        Assert.Equal(First("run-started") - detected, Span("timeToFirstAction"));
        Assert.Equal(First("step-picked-up", "alice") - detected, Span("timeToAcknowledge"));
        Assert.Equal(First("run-ended") - start, Span("timeToRemediate"));
        Assert.Equal(incident.GetProperty("closedAt").GetDateTimeOffset() - start, Span("timeToResolve"));
        Assert.Equal(timeline.Where(e => e.GetProperty("kind").GetString() == "alert-resolved").Select(At).Max(), incident.GetProperty("closedAt").GetDateTimeOffset());
        var human = (First("step-answered", "alice") - First("step-picked-up", "alice")).TotalMinutes;
        Assert.Equal(Math.Round(human, 2), figures.GetProperty("humanMinutes").GetDouble(), 2);
        Assert.True(figures.GetProperty("automatedMinutes").GetDouble() >= 0);
        Assert.Equal((3, 1, 2, 2), (figures.GetProperty("alerts").GetInt32(), figures.GetProperty("unautomatedAlerts").GetInt32(), figures.GetProperty("runs").GetInt32(), figures.GetProperty("succeededRuns").GetInt32()));
    }

    private static TimeSpan Max0(TimeSpan span) => span < TimeSpan.Zero ? TimeSpan.Zero : span;

    private static DateTimeOffset At(JsonElement e) => e.GetProperty("at").GetDateTimeOffset();

    private static string Line(JsonElement e) => $"{e.GetProperty("kind").GetString()} | {e.GetProperty("actor").GetString()} | {e.GetProperty("text").GetString()}";

    /// <summary>The draft with times, durations, ids and minutes as placeholders, and its timeline rows taken out (their order among events at the same millisecond is not the story's).</summary>
    private static (string Prose, List<string> Rows) Normalised(string markdown)
    {
        var rows = new List<string>();
        var prose = new List<string>();
        foreach (var line in markdown.ReplaceLineEndings("\n").Split('\n'))
        {
            var normal = Normalise(line);
            if (normal.StartsWith("| <time> |", StringComparison.Ordinal))
            {
                rows.Add(normal);
            }
            else
            {
                prose.Add(normal);
            }
        }

        return (string.Join("\n", prose), rows);
    }

    private static string Normalise(string text)
    {
        text = TimePattern().Replace(text, "<time>");
        text = IdPattern().Replace(text, "<id>");
        text = DurationPattern().Replace(text, "<duration>");
        return MinutesPattern().Replace(text, "<n> $1");
    }

    private async Task<JsonElement> IncidentAsync(Func<JsonElement, JsonElement?> awaited, string failure) =>
        await _host.Http.UntilAsync("/api/incidents", page => page.GetProperty("incidents").EnumerateArray().Select(awaited).FirstOrDefault(i => i is not null), $"{failure}. Alertmanager log:\n{_alertmanager.Log}\n");

    private async Task<List<string>> RunsOfAsync(string incident, int count)
    {
        var detail = await _host.Http.UntilAsync($"/api/incidents/{incident}", d => d.GetProperty("runs").GetArrayLength() == count ? d : null, $"the incident never had {count} runs");
        return [.. detail.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()!)];
    }

    [GeneratedRegex("<li class=\"k-")]
    private static partial Regex TimelineItem();

    [GeneratedRegex(@"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")]
    private static partial Regex TimePattern();

    [GeneratedRegex("[0-9a-f]{32}")]
    private static partial Regex IdPattern();

    [GeneratedRegex(@"\d+ h \d+ min|\d+ min \d+ s|\d+ s\b")]
    private static partial Regex DurationPattern();

    [GeneratedRegex(@"\d+(?:\.\d+)? (automated minutes|human minutes|minutes)")]
    private static partial Regex MinutesPattern();
}
