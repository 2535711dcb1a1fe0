using System.Globalization;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Incidents;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

/// <summary>
/// Grouping alerts into incidents as they are stored, and closing them as they resolve (<see cref="IIncidentStore"/>);
/// each backend runs these against a real database of its kind.
/// </summary>
public abstract class IncidentStoreContract : StoreContract
{
    private static readonly IncidentOptions Defaults = new();

    private DateTimeOffset Now => Time.GetUtcNow();

    [Fact]
    public async Task Ingest_OfOneAlertmanagerGroup_OpensOneIncident_AndAnotherGroupItsOwn()
    {
        var first = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "{}:{alertname=\"DiskFull\"}"), Alert("alertmanager", "DiskFull", "fp-2", "{}:{alertname=\"DiskFull\"}"));
        var later = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-3", "{}:{alertname=\"DiskFull\"}"));
        var other = await IngestAsync(Defaults, Alert("alertmanager", "CpuHot", "fp-9", "{}:{alertname=\"CpuHot\"}"));

        var incident = Assert.Single(first.Select(a => a.IncidentId).Distinct());
        Assert.NotNull(incident);
        Assert.Equal(incident, later[0].IncidentId);
        Assert.NotEqual(incident, other[0].IncidentId);
        var record = (await Store.GetIncidentAsync(incident, default))!;
        Assert.Equal(("DiskFull", IncidentRules.GroupKey, "group-key:alertmanager:{}:{alertname=\"DiskFull\"}", IncidentState.Open, 3),
            (record.Title, record.GroupRule, record.GroupKey, record.State, record.Alerts));
        Assert.Equal("{}:{alertname=\"DiskFull\"}", first[0].GroupKey);
    }

    [Fact]
    public async Task Ingest_OfOnePagerDutyIncidentTwice_GroupsByItsIncidentId()
    {
        var options = new IncidentOptions { Rules = [IncidentRules.PagerDutyIncident] };

        var triggered = await IngestAsync(options, Alert("pagerduty", "Checkout down", "PABC", "PABC"));
        var reopened = await IngestAsync(options, Alert("pagerduty", "Checkout down", "PABC", "PABC", startsAt: Now.AddMinutes(-1)));

        Assert.NotNull(triggered[0].IncidentId);
        Assert.Equal(triggered[0].IncidentId, reopened[0].IncidentId);
        Assert.Equal("pagerduty-incident:PABC", (await Store.GetIncidentAsync(triggered[0].IncidentId!, default))!.GroupKey);
    }

    [Fact]
    public async Task Ingest_OfTheSameFingerprint_WhileItsIncidentIsOpen_JoinsIt()
    {
        var options = new IncidentOptions { Rules = [IncidentRules.Fingerprint] };

        var first = await IngestAsync(options, Alert("generic", "QueueDeep", "fp-q", null, startsAt: Now.AddMinutes(-10)));
        var again = await IngestAsync(options, Alert("generic", "QueueDeep", "fp-q", null, startsAt: Now.AddMinutes(-2)));
        var elsewhere = await IngestAsync(options, Alert("datadog", "QueueDeep", "fp-q", null));

        Assert.Equal(first[0].IncidentId, again[0].IncidentId);
        Assert.NotEqual(first[0].IncidentId, elsewhere[0].IncidentId);
    }

    [Fact]
    public async Task Ingest_OfSharedLabels_JoinsWithinTheWindow_AndOpensANewIncidentAfterIt()
    {
        var options = new IncidentOptions { Rules = [IncidentRules.Labels], LabelWindow = TimeSpan.FromMinutes(30) };
        var labels = new Dictionary<string, string> { ["service"] = "checkout", ["cluster"] = "eu-1" };

        var first = await IngestAsync(options, Alert("alertmanager", "HighLatency", "fp-a", "g1", labels));
        Time.Advance(TimeSpan.FromMinutes(29));
        var within = await IngestAsync(options, Alert("datadog", "ErrorRate", "fp-b", null, labels));
        var otherCluster = await IngestAsync(options, Alert("datadog", "ErrorRate", "fp-c", null, new Dictionary<string, string> { ["service"] = "checkout", ["cluster"] = "us-1" }));
        var missingLabel = await IngestAsync(options, Alert("datadog", "ErrorRate", "fp-d", null, new Dictionary<string, string> { ["service"] = "checkout" }));
        Time.Advance(TimeSpan.FromMinutes(31));
        var after = await IngestAsync(options, Alert("datadog", "ErrorRate", "fp-e", null, labels));

        Assert.Equal(first[0].IncidentId, within[0].IncidentId);
        Assert.NotEqual(first[0].IncidentId, otherCluster[0].IncidentId);
        Assert.Null(missingLabel[0].IncidentId);
        Assert.NotEqual(first[0].IncidentId, after[0].IncidentId);
        var record = (await Store.GetIncidentAsync(first[0].IncidentId!, default))!;
        Assert.Equal(("checkout", 2), (record.Service, record.Alerts));
    }

    [Fact]
    public async Task Ingest_ByRulesInOrder_JoinsTheIncidentOfTheFirstRuleThatMatches()
    {
        var labels = new Dictionary<string, string> { ["service"] = "checkout", ["cluster"] = "eu-1" };
        var groupA = await IngestAsync(Defaults, Alert("alertmanager", "HighLatency", "fp-a", "group-a", labels));
        var groupB = await IngestAsync(Defaults, Alert("alertmanager", "ErrorRate", "fp-b", "group-b", labels));
        var backToA = await IngestAsync(Defaults, Alert("alertmanager", "ErrorRate", "fp-b2", "group-a", labels));

        // A new group with the labels of an open incident joins it: the labels rule comes after the group key's.
        Assert.Equal(groupA[0].IncidentId, groupB[0].IncidentId);
        Assert.Equal(groupA[0].IncidentId, backToA[0].IncidentId);
    }

    [Fact]
    public async Task FiguresFacts_OfAWindow_AreWhatEachIncidentsOwnReadGives()
    {
        var a = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g1"), Alert("alertmanager", "DiskFull", "fp-2", "g1"));
        Time.Advance(TimeSpan.FromMinutes(1));
        var b = await IngestAsync(Defaults, Alert("alertmanager", "CpuHot", "fp-3", "g2"));
        await Store.ResolveAlertsAsync("alertmanager", "fp-3", null, Now, null, default);

        var window = await Store.GetIncidentFiguresFactsAsync(Now.AddHours(-1), Now.AddHours(1), 1000, default);
        var one = await Store.GetIncidentFiguresFactsAsync(Now.AddHours(-1), Now.AddHours(1), 1, default);

        Assert.Equal([b[0].IncidentId, a[0].IncidentId], window.Select(f => f.Incident.Id));
        foreach (var facts in window)
        {
            var own = (await Store.GetIncidentFactsAsync(facts.Incident.Id, 0, default))!;
            Assert.Equal(IncidentFigures.Of(own), IncidentFigures.Of(facts));
            Assert.Equal(own.Totals, facts.Totals);
        }

        Assert.Equal(b[0].IncidentId, Assert.Single(one).Incident.Id);
        Assert.Empty(await Store.GetIncidentFiguresFactsAsync(Now.AddHours(1), Now.AddHours(2), 1000, default));
    }

    [Fact]
    public async Task Resolve_ReceivedBeforeTheAlertFiredAgain_LeavesTheNewFiringAndItsIncidentOpen()
    {
        var first = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g", startsAt: Now.AddMinutes(-10)));
        Time.Advance(TimeSpan.FromMinutes(1));
        var resolutionReceived = Now;
        Time.Advance(TimeSpan.FromMinutes(1));

        // The resolution waited in the queue while the alert fired again with a new start.
        var again = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g", startsAt: Now));
        var closed = await Store.ResolveAlertsAsync("alertmanager", "fp-1", null, resolutionReceived, resolutionReceived, default);

        Assert.Equal([first[0].Id], closed);
        Assert.Equal(first[0].IncidentId, again[0].IncidentId);
        Assert.Null((await Store.GetAlertAsync(again[0].Id, default))!.ResolvedAt);
        Assert.Equal(IncidentState.Open, (await Store.GetIncidentAsync(first[0].IncidentId!, default))!.State);
    }

    [Fact]
    public async Task Ingest_WhenGroupingFails_StoresTheAlertsUngrouped_AndReportsWhy()
    {
        // A group with no keys is a bug grouping cannot survive (it has no key to file the incident under); the alert
        // must be stored all the same, ungrouped, and the failure reported to the caller for its log.
        var failures = new List<Exception>();
        var parsed = Alert("alertmanager", "DiskFull", "fp-1", "g");
        var delivery = new WebhookDelivery("alertmanager", null, "{}", [parsed], Incidents: [new IncidentGroup("DiskFull", null, [])]) { OnGroupingFailed = failures.Add };

        var stored = await Store.IngestAsync(delivery, default);

        Assert.Null((await Store.GetAlertAsync(stored[0].Id, default))!.IncidentId);
        Assert.Equal(AlertOutcome.Pending, stored[0].Outcome);
        Assert.Single(failures);
        Assert.Empty(await Store.ListIncidentsAsync(new IncidentQuery(), default));

        var later = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-2", "g"));
        Assert.NotNull(later[0].IncidentId);
    }

    [Fact]
    public async Task Resolve_OfTheLastAlert_ClosesTheIncidentAtItsResolution_AndALateResendDoesNotReopenIt()
    {
        var alerts = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g"), Alert("alertmanager", "DiskFull", "fp-2", "g"));
        var incident = alerts[0].IncidentId!;

        await Store.ResolveAlertsAsync("alertmanager", "fp-1", null, Now.AddMinutes(1), null, default);
        Assert.Equal(IncidentState.Open, (await Store.GetIncidentAsync(incident, default))!.State);
        await Store.ResolveAlertsAsync("alertmanager", "fp-2", null, Now.AddMinutes(2), null, default);
        var closed = (await Store.GetIncidentAsync(incident, default))!;

        Assert.Equal((IncidentState.Closed, Now.AddMinutes(2)), (closed.State, closed.ClosedAt));

        // Alertmanager resending the firing notification it already sent, and the resolution again.
        var resend = await Store.IngestAsync(Delivery(Defaults, [Alert("alertmanager", "DiskFull", "fp-1", "g")]), default);
        await Store.ResolveAlertsAsync("alertmanager", "fp-2", null, Now.AddMinutes(3), null, default);

        Assert.NotNull(resend[0].DuplicateOf);
        Assert.Null((await Store.GetAlertAsync(resend[0].Id, default))!.IncidentId);
        var still = (await Store.GetIncidentAsync(incident, default))!;
        Assert.Equal((IncidentState.Closed, Now.AddMinutes(2), 2), (still.State, still.ClosedAt, still.Alerts));

        // The same alert firing anew (a new start) after the close is a new incident.
        var refired = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g", startsAt: Now.AddMinutes(5)));
        Assert.NotEqual(incident, refired[0].IncidentId);
    }

    [Fact]
    public async Task Opening_and_closing_an_incident_each_write_one_notification_with_the_incident()
    {
        var alerts = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g"), Alert("alertmanager", "DiskFull", "fp-2", "g"));
        var incident = alerts[0].IncidentId!;
        await Store.ResolveAlertsAsync("alertmanager", "fp-1", null, Now.AddMinutes(1), null, default);
        await Store.ResolveAlertsAsync("alertmanager", "fp-2", null, Now.AddMinutes(2), null, default);
        await Store.IngestAsync(Delivery(Defaults, [Alert("alertmanager", "DiskFull", "fp-1", "g")]), default);

        var notices = (await Store.ListNotificationsAsync(null, 50, default)).Where(n => n.Event.StartsWith("incident_", StringComparison.Ordinal)).OrderBy(n => n.Event, StringComparer.Ordinal).ToList();

        Assert.Equal(["incident_closed", "incident_opened"], notices.Select(n => n.Event));
        Assert.All(notices, n => Assert.Equal($"DiskFull: incident {incident}, /incidents/{incident}", n.Detail));
        Assert.All(notices, n => Assert.Null(n.Runbook));
    }

    [Fact]
    public async Task Resolve_OfTheLastTwoAlertsAtOnce_ClosesTheIncident()
    {
        var alerts = await IngestAsync(Defaults, [.. Enumerable.Range(0, 8).Select(i => Alert("alertmanager", "DiskFull", $"fp-{i}", "g"))]);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() => Store.ResolveAlertsAsync("alertmanager", $"fp-{i}", null, Now.AddMinutes(i), null, default))));

        var incident = (await Store.GetIncidentAsync(alerts[0].IncidentId!, default))!;
        Assert.Equal((IncidentState.Closed, Now.AddMinutes(7)), (incident.State, incident.ClosedAt));
    }

    [Fact]
    public async Task Ingest_OfRelatedAlertsByManyNodesAtOnce_OpensOneIncident()
    {
        // Eight deliveries of one Alertmanager group, each with an alert of its own, stored on as many connections at once.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.IngestAsync(Delivery(Defaults, [Alert("alertmanager", "DiskFull", $"fp-{i}", "g-race")]), default))));

        var records = await Task.WhenAll(results.Select(r => Store.GetAlertAsync(r[0].Id, default)));
        var incident = Assert.Single(records.Select(r => r!.IncidentId).Distinct());
        Assert.NotNull(incident);
        var open = await Store.ListIncidentsAsync(new IncidentQuery(State: IncidentState.Open), default);
        Assert.Equal((incident, 8), Assert.Single(open) is var only ? (only.Id, only.Alerts) : default);
    }

    [Fact]
    public async Task GetIncidentFacts_WithFewerAlertsRead_KeepsTheFiguresOfThemAll()
    {
        var first = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g", startsAt: Now.AddMinutes(-5)));
        Time.Advance(TimeSpan.FromMinutes(1));
        await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-2", "g", startsAt: Now.AddMinutes(-30)), Alert("alertmanager", "DiskFull", "fp-3", "g"));
        var id = first[0].IncidentId!;

        var some = (await Store.GetIncidentFactsAsync(id, 1, default))!;
        var all = (await Store.GetIncidentFactsAsync(id, null, default))!;

        Assert.Equal([first[0].Id], some.Alerts.Select(a => a.Id));
        Assert.True(some.AlertsCut);
        Assert.False(all.AlertsCut);
        Assert.Equal(IncidentFigures.Of(all), IncidentFigures.Of(some));
        Assert.Equal((3, At("2026-11-23T07:31:00Z"), At("2026-11-23T08:00:00Z")), (IncidentFigures.Of(some).Alerts, IncidentFigures.Of(some).StartedAt, IncidentFigures.Of(some).DetectedAt));
        Assert.Null(await Store.GetIncidentFactsAsync("no-such-incident", null, default));
    }

    [Fact]
    public async Task Retention_OfAnIncidentsLastAlert_DeletesTheIncidentAndFreesItsKeys()
    {
        var old = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g"), Alert("alertmanager", "DiskFull", "fp-2", "g"));
        Time.Advance(TimeSpan.FromDays(2));
        var kept = await IngestAsync(Defaults, Alert("alertmanager", "CpuHot", "fp-9", "g-other"));

        Assert.Equal(2, await Store.DeleteExpiredAlertsAsync(Now.AddDays(-1), 10, default));

        Assert.Null(await Store.GetIncidentAsync(old[0].IncidentId!, default));
        Assert.NotNull(await Store.GetIncidentAsync(kept[0].IncidentId!, default));
        var again = await IngestAsync(Defaults, Alert("alertmanager", "DiskFull", "fp-1", "g", startsAt: Now));
        Assert.NotEqual(old[0].IncidentId, again[0].IncidentId);
    }

    [Fact]
    public async Task ListIncidents_FiltersByStateServiceAndTime_AndPagesNewestFirst()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            var labels = new Dictionary<string, string> { ["service"] = i % 2 == 0 ? "checkout" : "search" };
            ids.Add((await IngestAsync(Defaults, Alert("alertmanager", $"A{i}", $"fp-{i}", $"g-{i}", labels)))[0].IncidentId!);
            Time.Advance(TimeSpan.FromMinutes(1));
        }

        await Store.ResolveAlertsAsync("alertmanager", "fp-0", null, Now, null, default);

        var page1 = await Store.ListIncidentsAsync(new IncidentQuery(Limit: 2), default);
        var page2 = await Store.ListIncidentsAsync(new IncidentQuery(Limit: 2, Before: page1[^1].Id), default);
        Assert.Equal([ids[4], ids[3], ids[2], ids[1]], page1.Concat(page2).Select(i => i.Id));
        Assert.Equal([ids[4], ids[2], ids[0]], (await Store.ListIncidentsAsync(new IncidentQuery(Service: "checkout"), default)).Select(i => i.Id));
        Assert.Equal([ids[0]], (await Store.ListIncidentsAsync(new IncidentQuery(State: IncidentState.Closed), default)).Select(i => i.Id));
        var start = At("2026-11-23T08:00:00Z");
        Assert.Equal([ids[2], ids[1]], (await Store.ListIncidentsAsync(new IncidentQuery(Since: start.AddMinutes(1), Until: start.AddMinutes(3)), default)).Select(i => i.Id));
        Assert.Empty(await Store.ListIncidentsAsync(new IncidentQuery(Before: "no-such-incident"), default));
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private ParsedAlert Alert(string source, string name, string fingerprint, string? groupKey, Dictionary<string, string>? labels = null, DateTimeOffset? startsAt = null)
    {
        var start = startsAt ?? At("2026-11-23T07:50:00Z");
        var alert = new RunbookAlert(source, name, AlertStatus.Firing, null, labels ?? [], new Dictionary<string, string>(), start, null, fingerprint);
        return new ParsedAlert(alert, $"{source}:{fingerprint}:{start.ToUnixTimeMilliseconds()}", groupKey);
    }

    private static WebhookDelivery Delivery(IncidentOptions options, ParsedAlert[] alerts) =>
        new(alerts[0].Alert.Source, null, "{}", alerts, Incidents: [.. alerts.Select(a => IncidentGrouping.For(a, options))]);

    private async Task<IReadOnlyList<AlertRecord>> IngestAsync(IncidentOptions options, params ParsedAlert[] alerts)
    {
        var stored = await Store.IngestAsync(Delivery(options, alerts), default);
        return [.. await Task.WhenAll(stored.Select(async s => (await Store.GetAlertAsync(s.Id, default))!))];
    }
}
