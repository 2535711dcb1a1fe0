using System.Data.Common;
using System.Globalization;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

/// <summary>
/// What every store must do with alerts, their decisions and circuit breakers (<see cref="IAlertStore"/>); each backend
/// runs these against a real database of its kind.
/// </summary>
public abstract class AlertStoreContract : StoreContract
{
    private const string Alertmanager = "alertmanager";

    private DateTimeOffset Now => Time.GetUtcNow();

    [Fact]
    public async Task Ingest_KeepsTheDeliverysTraceContext_OnEachOfItsAlerts()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var alert = new RunbookAlert(Alertmanager, "DiskFull", AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), Now, null, "fp-traced");

        var stored = await Store.IngestAsync(new WebhookDelivery(Alertmanager, null, "{}", [new(alert, "k-traced-1"), new(alert, "k-traced-2")], traceParent), default);
        var untraced = await Store.IngestAsync(new WebhookDelivery(Alertmanager, null, "{}", [new(alert, "k-untraced")]), default);

        Assert.All(await GetAllAsync(stored.Select(s => s.Id)), r => Assert.Equal(traceParent, r.TraceParent));
        Assert.Null((await Store.ClaimAlertAsync(untraced[0].Id, "node-a", Now, default))!.TraceParent);
    }

    [Fact]
    public async Task Ingest_StoresEveryAlertOfADelivery_InOrder_AllPending_AndReadsBackAsWritten()
    {
        // 123.4567 ms past the second: stored times keep whole milliseconds.
        Time.Advance(TimeSpan.FromTicks(1_234_567));
        var disk = new RunbookAlert(Alertmanager, "DiskFull", AlertStatus.Firing, "critical",
            new Dictionary<string, string> { ["alertname"] = "DiskFull", ["instance"] = "web-1:9100", ["mount"] = "/var", ["team"] = "sré \"ops\"" },
            new Dictionary<string, string> { ["summary"] = "/var is 93% full", ["runbook_url"] = "https://runbooks.example/disk?x=1&y=2" },
            At("2026-11-23T07:55:12.3456789Z"), null, "fp-disk", "am-42");
        var load = new RunbookAlert(Alertmanager, "HighLoad", AlertStatus.Resolved, null,
            new Dictionary<string, string> { ["alertname"] = "HighLoad" }, new Dictionary<string, string>(),
            At("2026-11-23T07:40:00.001Z"), At("2026-11-23T07:58:59.9999Z"), "fp-load");
        var cpu = new RunbookAlert(Alertmanager, "CpuHot", AlertStatus.Firing, "warning",
            new Dictionary<string, string>(), new Dictionary<string, string> { ["description"] = "line 1\nline 2 ✓" },
            At("2026-11-23T07:59:59.999Z"), null, "fp-cpu");
        const string payload = "{\"receiver\":\"runbooks\",\"status\":\"firing\",\"alerts\":[{\"labels\":{\"team\":\"sré\"}}],\"note\":\"✓\"}";

        var stored = await Store.IngestAsync(new WebhookDelivery(Alertmanager, "hook-7", payload, [new(disk, "k-disk"), new(load, "k-load"), new(cpu, "k-cpu")]), default);
        var records = await GetAllAsync(stored.Select(s => s.Id));

        Assert.Equal([AlertStatus.Firing, AlertStatus.Resolved, AlertStatus.Firing], stored.Select(s => s.Status));
        Assert.All(stored, s => Assert.Null(s.DuplicateOf));
        Assert.Equal(3, stored.Select(s => s.Id).Distinct().Count());
        Assert.Equal(stored.Select(s => s.Id), records.Select(r => r.Id));
        Assert.Equal(["k-disk", "k-load", "k-cpu"], records.Select(r => r.DedupKey));
        Assert.All(records, r =>
        {
            Assert.Equal(AlertOutcome.Pending, r.Outcome);
            Assert.Null(r.Detail);
            Assert.Null(r.DuplicateOf);
            Assert.Null(r.ResolvedAt);
            Assert.Equal(At("2026-11-23T08:00:00.123Z"), r.ReceivedAt);
            Assert.Equal(records[0].DeliveryRowId, r.DeliveryRowId);
        });
        Assert.Equal(payload, await Store.GetPayloadAsync(records[0].DeliveryRowId, default));
        Assert.Null(await Store.GetPayloadAsync("no-such-delivery", default));

        AssertSameAlert(disk, records[0].Alert, At("2026-11-23T07:55:12.345Z"), null, "am-42");
        AssertSameAlert(load, records[1].Alert, At("2026-11-23T07:40:00.001Z"), At("2026-11-23T07:58:59.999Z"), "hook-7");
        AssertSameAlert(cpu, records[2].Alert, At("2026-11-23T07:59:59.999Z"), null, "hook-7");
    }

    [Fact]
    public async Task GetAlert_OfAnUnknownId_IsNull()
    {
        Assert.Null(await Store.GetAlertAsync("no-such-alert", default));
    }

    [Fact]
    public async Task Ingest_StoresAResendAsADuplicateOfTheFirst_AcrossAndWithinDeliveries()
    {
        var first = await Store.IngestAsync(Delivery(Parsed("k1"), Parsed("k2", "fp-2")), default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var second = await Store.IngestAsync(Delivery(Parsed("k1"), Parsed("k3", "fp-3"), Parsed("k3", "fp-3"), Parsed("k2", "fp-2"), Parsed("k4", "fp-4")), default);

        Assert.All(first, a => Assert.Null(a.DuplicateOf));
        Assert.Equal([first[0].Id, null, second[1].Id, first[1].Id, null], second.Select(a => a.DuplicateOf));
        var records = await GetAllAsync(second.Select(a => a.Id));
        Assert.Equal(
            [AlertOutcome.Duplicate, AlertOutcome.Pending, AlertOutcome.Duplicate, AlertOutcome.Duplicate, AlertOutcome.Pending],
            records.Select(r => r.Outcome));
        Assert.Equal(second.Select(a => a.DuplicateOf), records.Select(r => r.DuplicateOf));
        Assert.Equal(AlertOutcome.Pending, (await GetAsync(first[0].Id)).Outcome);
    }

    [Fact]
    public async Task Ingest_OfOneKeyByManyNodesAtOnce_StoresExactlyOneOriginal()
    {
        // An Alertmanager HA pair (and its retries) sending the same group at the same moment.
        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            Task.Run(() => Store.IngestAsync(Delivery(Parsed("storm-1"), Parsed("storm-2", "fp-2")), default))));

        for (var position = 0; position < 2; position++)
        {
            var copies = results.Select(r => r[position]).ToList();
            var original = Assert.Single(copies, a => a.DuplicateOf is null);
            Assert.All(copies.Where(a => a.Id != original.Id), a => Assert.Equal(original.Id, a.DuplicateOf));
            Assert.Equal(AlertOutcome.Pending, (await GetAsync(original.Id)).Outcome);
        }

        Assert.Equal(2, (await Store.ListAlertsAsync(new AlertQuery(Outcome: AlertOutcome.Pending), default)).Count);
        Assert.Equal(14, (await Store.ListAlertsAsync(new AlertQuery(Outcome: AlertOutcome.Duplicate), default)).Count);
    }

    [Fact]
    public async Task Ingest_OfTheSameKeysInAnotherOrderAtOnce_NeitherFailsNorStoresTwoOriginals()
    {
        // Two senders listing the same alerts in a different order (the other instance of an HA pair, a second Grafana).
        var alerts = Enumerable.Range(0, 100).Select(i => Parsed($"order-{i}", $"fp-{i}")).ToArray();
        var reversed = alerts.Reverse().ToArray();

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.IngestAsync(Delivery(i % 2 == 0 ? alerts : reversed), default))));

        var all = results.SelectMany(r => r).ToList();
        Assert.Equal(100, all.Count(a => a.DuplicateOf is null));
        Assert.Equal(700, all.Count(a => a.DuplicateOf is not null));
    }

    [Fact]
    public async Task Ingest_OfAHugeGroup_StoresEveryAlert()
    {
        // One Alertmanager group during a wide outage: a node-level alert firing on thousands of hosts at once.
        var alerts = Enumerable.Range(0, 5000).Select(i => Parsed($"huge-{i}", $"fp-{i}")).ToArray();

        var stored = await Store.IngestAsync(Delivery(alerts), default);

        Assert.Equal(5000, stored.Count);
        Assert.All(stored, a => Assert.Null(a.DuplicateOf));
        Assert.Equal(500, (await Store.ListAlertsAsync(new AlertQuery(Limit: 500), default)).Count);
    }

    [Fact]
    public async Task ClaimAlert_FirstClaimWins_UntilItGoesStale()
    {
        var alert = await IngestOneAsync(Parsed("claim"));
        var staleBefore = Now.AddMinutes(-1);

        var first = await Store.ClaimAlertAsync(alert.Id, "node-1", staleBefore, default);
        var sameNode = await Store.ClaimAlertAsync(alert.Id, "node-1", staleBefore, default);
        var otherNode = await Store.ClaimAlertAsync(alert.Id, "node-2", staleBefore, default);
        Time.Advance(TimeSpan.FromMinutes(2));
        var takenOver = await Store.ClaimAlertAsync(alert.Id, "node-2", Now.AddMinutes(-1), default);
        var afterTakeover = await Store.ClaimAlertAsync(alert.Id, "node-1", Now.AddMinutes(-1), default);

        Assert.Equal((alert.Id, AlertOutcome.Matching), (first!.Id, first.Outcome));
        Assert.Null(sameNode);
        Assert.Null(otherNode);
        Assert.Equal((alert.Id, AlertOutcome.Matching), (takenOver!.Id, takenOver.Outcome));
        Assert.Null(afterTakeover);
    }

    [Fact]
    public async Task ClaimAlert_ByManyNodesAtOnce_HasOneWinner()
    {
        var alert = await IngestOneAsync(Parsed("race"));

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            Task.Run(() => Store.ClaimAlertAsync(alert.Id, $"node-{i}", Now.AddMinutes(-1), default))));

        Assert.Single(claims, c => c is not null);
    }

    [Fact]
    public async Task ClaimAlert_NeverTakesADuplicate_AFinishedAlert_OrAnUnknownOne()
    {
        var original = await IngestOneAsync(Parsed("dup"));
        var duplicate = await IngestOneAsync(Parsed("dup"));
        var finished = await IngestOneAsync(Parsed("done", "fp-done"));
        await Store.SetOutcomeAsync(finished.Id, AlertOutcome.Unautomated, "no runbook matches", default);
        var farFuture = Now.AddDays(1);

        Assert.Equal(original.Id, duplicate.DuplicateOf);
        Assert.Null(await Store.ClaimAlertAsync(duplicate.Id, "node-1", farFuture, default));
        Assert.Null(await Store.ClaimAlertAsync(finished.Id, "node-1", farFuture, default));
        Assert.Null(await Store.ClaimAlertAsync("no-such-alert", "node-1", farFuture, default));
        Assert.Equal(AlertOutcome.Duplicate, (await GetAsync(duplicate.Id)).Outcome);
        Assert.Equal((AlertOutcome.Unautomated, "no runbook matches"), ((await GetAsync(finished.Id)).Outcome, (await GetAsync(finished.Id)).Detail));
    }

    [Fact]
    public async Task ClaimAlerts_TakesOldPendingOnes_AndStaleClaims_OldestFirst_InBatches()
    {
        var oldPending = await IngestOneAsync(Parsed("old-pending", "fp-1"));
        Time.Advance(TimeSpan.FromSeconds(1));
        var staleClaim = await IngestOneAsync(Parsed("stale-claim", "fp-2"));
        await Store.ClaimAlertAsync(staleClaim.Id, "node-dead", Now.AddMinutes(-1), default);
        var freshClaim = await IngestOneAsync(Parsed("fresh-claim", "fp-3"));
        var finished = await IngestOneAsync(Parsed("finished", "fp-4"));
        await Store.SetOutcomeAsync(finished.Id, AlertOutcome.Started, "started run x", default);
        var duplicate = await IngestOneAsync(Parsed("old-pending", "fp-1"));
        Time.Advance(TimeSpan.FromMinutes(5));
        await Store.ClaimAlertAsync(freshClaim.Id, "node-alive", Now.AddMinutes(-1), default);
        var freshPending = await IngestOneAsync(Parsed("fresh-pending", "fp-5"));

        var first = await Store.ClaimAlertsAsync("node-1", Now.AddSeconds(-30), Now.AddMinutes(-1), 1, default);
        var rest = await Store.ClaimAlertsAsync("node-1", Now.AddSeconds(-30), Now.AddMinutes(-1), 10, default);
        var again = await Store.ClaimAlertsAsync("node-2", Now.AddSeconds(-30), Now.AddMinutes(-1), 10, default);

        Assert.NotNull(duplicate.DuplicateOf);
        Assert.Equal([oldPending.Id], first.Select(a => a.Id));
        Assert.Equal([staleClaim.Id], rest.Select(a => a.Id));
        Assert.Equal(("fp-1", AlertOutcome.Matching), (first[0].Alert.Fingerprint, first[0].Outcome));
        Assert.Empty(again);
        Assert.Equal(AlertOutcome.Pending, (await GetAsync(freshPending.Id)).Outcome);
    }

    [Fact]
    public async Task An_alert_the_delivery_knows_is_unautomated_is_stored_settled_and_never_claimed()
    {
        var noise = Parsed("noise", "fp-noise");
        var wanted = Parsed("wanted", "fp-wanted");
        var stored = await Store.IngestAsync(new WebhookDelivery(Alertmanager, null, "{}", [noise, wanted, noise], null, ["no runbook's alerts: rules match it", null, "no runbook's alerts: rules match it"]), default);
        Time.Advance(TimeSpan.FromMinutes(5));

        var claimed = await Store.ClaimAlertsAsync("node-1", Now, Now.AddMinutes(-1), 10, default);

        Assert.Equal([AlertOutcome.Unautomated, AlertOutcome.Pending, AlertOutcome.Duplicate], stored.Select(a => a.Outcome));
        Assert.Equal((AlertOutcome.Unautomated, "no runbook's alerts: rules match it"), ((await GetAsync(stored[0].Id)).Outcome, (await GetAsync(stored[0].Id)).Detail));
        Assert.Equal([stored[1].Id], claimed.Select(a => a.Id));
    }

    [Fact]
    public async Task SetOutcomes_settles_many_alerts_at_once_and_no_others()
    {
        var alerts = new List<StoredAlert>();
        for (var i = 0; i < 7; i++)
        {
            alerts.Add(await IngestOneAsync(Parsed($"many-{i}", $"fp-many-{i}")));
        }

        await Store.SetOutcomesAsync([.. alerts.Take(6).Select(a => a.Id)], AlertOutcome.Unautomated, "nothing matches", default);

        foreach (var alert in alerts.Take(6))
        {
            Assert.Equal((AlertOutcome.Unautomated, "nothing matches"), ((await GetAsync(alert.Id)).Outcome, (await GetAsync(alert.Id)).Detail));
        }

        Assert.Equal(AlertOutcome.Pending, (await GetAsync(alerts[6].Id)).Outcome);
    }

    [Fact]
    public async Task AddDecision_IsOncePerAlertAndRunbook_AndReadsBackAsWritten()
    {
        var alert = await IngestOneAsync(Parsed("decide"));
        var other = await IngestOneAsync(Parsed("other", "fp-other"));
        var started = new AlertDecision("disk-cleanup", AlertDecisionKind.Started, "run-1", null, Now.AddMilliseconds(5));
        var cooldown = new AlertDecision("log-rotate", AlertDecisionKind.Cooldown, null, "a run for web-1 ended 2m ago; cooldown is 10m", Now.AddMilliseconds(7));

        var recorded = await Store.AddDecisionAsync(alert.Id, started, default);
        var repeated = await Store.AddDecisionAsync(alert.Id, started with { Decision = AlertDecisionKind.Busy, RunId = null, Reason = "busy" }, default);
        var second = await Store.AddDecisionAsync(alert.Id, cooldown, default);
        var sameRunbookOtherAlert = await Store.AddDecisionAsync(other.Id, started with { RunId = "run-2" }, default);

        Assert.True(recorded);
        Assert.False(repeated);
        Assert.True(second);
        Assert.True(sameRunbookOtherAlert);
        Assert.Equal([started, cooldown], await Store.GetDecisionsAsync(alert.Id, default));
        Assert.Equal([started with { RunId = "run-2" }], await Store.GetDecisionsAsync(other.Id, default));
        Assert.Empty(await Store.GetDecisionsAsync("no-such-alert", default));
    }

    [Fact]
    public async Task SetOutcome_ChangesOutcomeAndDetail()
    {
        var alert = await IngestOneAsync(Parsed("outcome"));
        await Store.ClaimAlertAsync(alert.Id, "node-1", Now.AddMinutes(-1), default);

        await Store.SetOutcomeAsync(alert.Id, AlertOutcome.Guarded, "disk-cleanup: cooldown (10m)", default);
        var guarded = await GetAsync(alert.Id);
        await Store.SetOutcomeAsync(alert.Id, AlertOutcome.Started, null, default);
        var started = await GetAsync(alert.Id);

        Assert.Equal((AlertOutcome.Guarded, "disk-cleanup: cooldown (10m)"), (guarded.Outcome, guarded.Detail));
        Assert.Equal((AlertOutcome.Started, null), (started.Outcome, started.Detail));
    }

    [Fact]
    public async Task ResolveAlerts_ClosesTheOpenFiringAlertsOfTheFingerprint_Once()
    {
        var firing = await IngestOneAsync(Parsed("f1", "fp-1", startsAt: At("2026-11-23T07:00:00Z")));
        var again = await IngestOneAsync(Parsed("f2", "fp-1", startsAt: At("2026-11-23T07:30:00Z")));
        var resend = await IngestOneAsync(Parsed("f1", "fp-1", startsAt: At("2026-11-23T07:00:00Z")));
        var otherFingerprint = await IngestOneAsync(Parsed("x1", "fp-2"));
        var otherSource = await IngestOneAsync(Parsed("g1", "fp-1", source: "grafana"));
        var resolution = await IngestOneAsync(Parsed("r1", "fp-1", AlertStatus.Resolved));
        var resolvedAt = At("2026-11-23T07:59:30.250Z");

        var closed = await Store.ResolveAlertsAsync(Alertmanager, "fp-1", null, resolvedAt, null, default);
        var closedAgain = await Store.ResolveAlertsAsync(Alertmanager, "fp-1", null, resolvedAt.AddMinutes(1), null, default);

        Assert.Equal(firing.Id, resend.DuplicateOf);
        Assert.Equal(new[] { firing.Id, again.Id }.Order(StringComparer.Ordinal), closed.Order(StringComparer.Ordinal));
        Assert.Empty(closedAgain);
        Assert.Equal(resolvedAt, (await GetAsync(firing.Id)).ResolvedAt);
        Assert.Equal(resolvedAt, (await GetAsync(again.Id)).ResolvedAt);
        foreach (var untouched in new[] { resend, otherFingerprint, otherSource, resolution })
        {
            Assert.Null((await GetAsync(untouched.Id)).ResolvedAt);
        }

        Assert.Equal([otherSource.Id], await Store.ResolveAlertsAsync("grafana", "fp-1", null, resolvedAt, null, default));
        Assert.Empty(await Store.ResolveAlertsAsync(Alertmanager, "fp-unknown", null, resolvedAt, null, default));
    }

    [Fact]
    public async Task ResolveAlerts_ByManyNodesAtOnce_ClosesEachFiringAlertOnce()
    {
        // Resolved notifications of one alert with different dedup keys (a new endsAt), matched on several nodes at once.
        var firing = await Store.IngestAsync(Delivery([.. Enumerable.Range(0, 50).Select(i => Parsed($"f{i}", "fp-1", startsAt: Now.AddMinutes(-i - 1)))]), default);

        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i =>
            Task.Run(() => Store.ResolveAlertsAsync(Alertmanager, "fp-1", null, Now.AddSeconds(-i), null, default))));

        var closed = results.SelectMany(r => r).ToList();
        Assert.Equal(firing.Select(a => a.Id).Order(StringComparer.Ordinal), closed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task ResolveAlerts_WithAStart_ClosesOnlyThatIncident()
    {
        var morning = await IngestOneAsync(Parsed("m", "fp-1", startsAt: At("2026-11-23T06:00:00.123Z")));
        var evening = await IngestOneAsync(Parsed("e", "fp-1", startsAt: At("2026-11-23T07:00:00Z")));

        var closed = await Store.ResolveAlertsAsync(Alertmanager, "fp-1", At("2026-11-23T06:00:00.123Z"), Now, null, default);

        Assert.Equal([morning.Id], closed);
        Assert.Null((await GetAsync(evening.Id)).ResolvedAt);
        Assert.Equal(Now, (await GetAsync(morning.Id)).ResolvedAt);
    }

    [Fact]
    public async Task ListAlerts_IsNewestFirst_AndFilters()
    {
        var started = await IngestOutcomeAsync(Parsed("a1", "fp-1"), AlertOutcome.Started);
        var guarded = await IngestOutcomeAsync(Parsed("a2", "fp-2"), AlertOutcome.Guarded);
        var unautomated = await IngestOutcomeAsync(Parsed("a3", "fp-3", source: "grafana"), AlertOutcome.Unautomated);
        var resolution = await IngestOutcomeAsync(Parsed("a4", "fp-1", AlertStatus.Resolved), AlertOutcome.Resolution);
        var pending = await IngestOutcomeAsync(Parsed("a5", "fp-5"), null);
        var duplicate = await IngestOutcomeAsync(Parsed("a1", "fp-1"), null);
        var grafanaStarted = await IngestOutcomeAsync(Parsed("a7", "fp-7", source: "grafana"), AlertOutcome.Started);

        async Task<IEnumerable<string>> ListAsync(AlertQuery query) => (await Store.ListAlertsAsync(query, default)).Select(a => a.Id);

        Assert.Equal([grafanaStarted, duplicate, pending, resolution, unautomated, guarded, started], await ListAsync(new AlertQuery()));
        Assert.Equal([resolution], await ListAsync(new AlertQuery(Status: AlertStatus.Resolved)));
        Assert.Equal([grafanaStarted, duplicate, pending, unautomated, guarded, started], await ListAsync(new AlertQuery(Status: AlertStatus.Firing)));
        Assert.Equal([grafanaStarted, unautomated], await ListAsync(new AlertQuery(Source: "grafana")));
        Assert.Equal([grafanaStarted, guarded, started], await ListAsync(new AlertQuery(Matched: true)));
        Assert.Equal([unautomated], await ListAsync(new AlertQuery(Matched: false)));
        Assert.Equal([duplicate], await ListAsync(new AlertQuery(Outcome: AlertOutcome.Duplicate)));
        Assert.Equal([pending], await ListAsync(new AlertQuery(Outcome: AlertOutcome.Pending)));
        Assert.Equal([grafanaStarted, started], await ListAsync(new AlertQuery(Matched: true, Outcome: AlertOutcome.Started)));
        Assert.Empty(await ListAsync(new AlertQuery(Matched: true, Outcome: AlertOutcome.Pending)));
        Assert.Equal([guarded, started], await ListAsync(new AlertQuery(Matched: true, Source: Alertmanager)));
        Assert.Equal([grafanaStarted], await ListAsync(new AlertQuery(Matched: true, Source: "grafana", Status: AlertStatus.Firing)));
        Assert.Equal([grafanaStarted, duplicate], await ListAsync(new AlertQuery(Limit: 2)));
        Assert.Empty(await ListAsync(new AlertQuery(Before: "no-such-alert")));
    }

    [Fact]
    public async Task ListAlerts_PagesNewestFirst_WithoutGapsOrRepeats()
    {
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            // Several alerts per delivery share a received time: the cursor must break the tie.
            var delivery = await Store.IngestAsync(Delivery(Parsed($"p{i}-a", $"fp-{i}-a"), Parsed($"p{i}-b", $"fp-{i}-b"), Parsed($"p{i}-c", $"fp-{i}-c")), default);
            ids.AddRange(delivery.Select(a => a.Id));
            if (i % 2 == 0)
            {
                Time.Advance(TimeSpan.FromMilliseconds(1));
            }
        }

        var seen = new List<string>();
        string? cursor = null;
        while (true)
        {
            var page = await Store.ListAlertsAsync(new AlertQuery(Limit: 4, Before: cursor), default);
            if (page.Count == 0)
            {
                break;
            }

            Assert.True(page.Count <= 4);
            seen.AddRange(page.Select(a => a.Id));
            cursor = page[^1].Id;
        }

        var everything = await Store.ListAlertsAsync(new AlertQuery(Limit: 500), default);
        var times = everything.Select(a => a.ReceivedAt).ToList();
        Assert.Equal(ids.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(everything.Select(a => a.Id), seen);
        Assert.Equal(times.OrderDescending(), times);
    }

    [Fact]
    public async Task RunsForAlert_ListsItsRuns_AndAnAlertStartsOneRunPerRunbook_PlusRetries()
    {
        var alert = await IngestOneAsync(Parsed("runs"));
        var first = await Store.CreateRunAsync(AlertRun("disk-cleanup", alert.Id, "web-1"), default);
        Time.Advance(TimeSpan.FromSeconds(1));

        var second = await Assert.ThrowsAnyAsync<DbException>(() => Store.CreateRunAsync(AlertRun("disk-cleanup", alert.Id, "web-1"), default));
        var otherRunbook = await Store.CreateRunAsync(AlertRun("log-rotate", alert.Id, "web-1"), default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var retry = await Store.CreateRunAsync(AlertRun("disk-cleanup", alert.Id, "web-1") with { Trigger = RunTrigger.Retry, RetryOf = first.Id }, default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var retryAgain = await Store.CreateRunAsync(AlertRun("disk-cleanup", alert.Id, "web-1") with { Trigger = RunTrigger.Retry, RetryOf = first.Id }, default);
        var unrelated = await Store.CreateRunAsync(AlertRun("disk-cleanup", "another-alert", "web-1"), default);

        Assert.NotNull(second);
        Assert.Equal([first, otherRunbook, retry, retryAgain], await Store.RunsForAlertAsync(alert.Id, default));
        Assert.Equal([unrelated], await Store.RunsForAlertAsync("another-alert", default));
        Assert.Empty(await Store.RunsForAlertAsync("no-such-alert", default));
        Assert.Equal((alert.Id, "web-1"), (first.AlertId, first.Target));
    }

    [Fact]
    public async Task RecentRunForTarget_IsAnActiveRun_OrOneThatEndedSince()
    {
        var old = await FinishedRunAsync(AlertRun("disk-cleanup", "alert-1", "web-1"), RunStatus.Succeeded);
        Time.Advance(TimeSpan.FromMinutes(10));
        await Store.CreateRunAsync(AlertRun("disk-cleanup", "alert-2", "web-2"), default);
        await Store.CreateRunAsync(AlertRun("log-rotate", "alert-3", "web-1"), default);

        var onlyOld = await Store.RecentRunForTargetAsync("disk-cleanup", "web-1", Now.AddMinutes(-5), default);
        var oldStillCounts = await Store.RecentRunForTargetAsync("disk-cleanup", "web-1", old.FinishedAt!.Value, default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var active = await Store.CreateRunAsync(AlertRun("disk-cleanup", "alert-4", "web-1"), default);
        var whileActive = await Store.RecentRunForTargetAsync("disk-cleanup", "web-1", Now.AddMinutes(-5), default);
        await Store.StartRunAsync(active.Id, "node-1", recovering: false, default);
        await Store.FinishRunAsync(active.Id, RunStatus.WaitingForHuman, "approval pending", default);
        var whileWaiting = await Store.RecentRunForTargetAsync("disk-cleanup", "web-1", Now.AddMinutes(-5), default);
        await Store.FinishRunAsync(active.Id, RunStatus.Failed, "boom", default);
        var endedAt = Now;
        Time.Advance(TimeSpan.FromMinutes(3));
        var endedAtSince = await Store.RecentRunForTargetAsync("disk-cleanup", "web-1", endedAt, default);
        var endedBeforeSince = await Store.RecentRunForTargetAsync("disk-cleanup", "web-1", endedAt.AddMilliseconds(1), default);

        Assert.Null(onlyOld);
        Assert.Equal(old.Id, oldStillCounts?.Id);
        Assert.Equal(active.Id, whileActive?.Id);
        Assert.Equal(active.Id, whileWaiting?.Id);
        Assert.Equal((active.Id, RunStatus.Failed), (endedAtSince?.Id, endedAtSince?.Status));
        Assert.Null(endedBeforeSince);
        Assert.Null(await Store.RecentRunForTargetAsync("disk-cleanup", "web-9", Now.AddDays(-1), default));
        Assert.Null(await Store.RecentRunForTargetAsync("restart-app", "web-1", Now.AddDays(-1), default));
    }

    [Fact]
    public async Task AlertRunCounts_CountAlertRunsOfTheRunbookSinceATime_AndTheirFailures()
    {
        await FinishedRunAsync(AlertRun("disk-cleanup", "alert-old"), RunStatus.Failed);
        Time.Advance(TimeSpan.FromMinutes(10));
        var since = Now;
        await FinishedRunAsync(AlertRun("disk-cleanup", "alert-1"), RunStatus.Succeeded);
        await FinishedRunAsync(AlertRun("disk-cleanup", "alert-2"), RunStatus.Failed);
        await FinishedRunAsync(AlertRun("disk-cleanup", "alert-3"), RunStatus.TimedOut);
        await FinishedRunAsync(AlertRun("disk-cleanup", "alert-4"), RunStatus.Cancelled);
        await Store.CreateRunAsync(AlertRun("disk-cleanup", "alert-5"), default);
        var running = await Store.CreateRunAsync(AlertRun("disk-cleanup", "alert-6"), default);
        await Store.StartRunAsync(running.Id, "node-1", recovering: false, default);
        await FinishedRunAsync(AlertRun("disk-cleanup", null) with { Trigger = RunTrigger.Manual, TriggeredBy = "alice" }, RunStatus.Failed);
        await FinishedRunAsync(AlertRun("log-rotate", "alert-1"), RunStatus.Failed);
        Time.Advance(TimeSpan.FromMinutes(1));

        Assert.Equal((6, 2), await Store.AlertRunCountsAsync("disk-cleanup", since, default));
        Assert.Equal((7, 3), await Store.AlertRunCountsAsync("disk-cleanup", since.AddHours(-1), default));
        Assert.Equal((0, 0), await Store.AlertRunCountsAsync("disk-cleanup", Now, default));
        Assert.Equal((1, 1), await Store.AlertRunCountsAsync("log-rotate", since, default));
        Assert.Equal((0, 0), await Store.AlertRunCountsAsync("never-ran", since, default));
    }

    [Fact]
    public async Task OpenBreaker_Opens_LeavesAnOpenOneAlone_AndReopensOnceExpired()
    {
        var until = Now.AddMinutes(15);

        var absent = await Store.GetBreakerAsync("disk-cleanup", default);
        var opened = await Store.OpenBreakerAsync("disk-cleanup", until, "5 failures in 15m", default);
        var openedAt = Now;
        Time.Advance(TimeSpan.FromMinutes(1));
        var whileOpen = await Store.OpenBreakerAsync("disk-cleanup", Now.AddMinutes(15), "6 failures in 15m", default);
        var afterNoop = await Store.GetBreakerAsync("disk-cleanup", default);
        Time.SetUtcNow(until);
        var reopened = await Store.OpenBreakerAsync("disk-cleanup", until.AddMinutes(15), "10 runs in 15m", default);

        Assert.Null(absent);
        Assert.True(opened);
        Assert.False(whileOpen);
        Assert.Equal(new BreakerRecord("disk-cleanup", openedAt, until, "5 failures in 15m", null, null), afterNoop);
        Assert.True(reopened);
        Assert.Equal(new BreakerRecord("disk-cleanup", until, until.AddMinutes(15), "10 runs in 15m", null, null), await Store.GetBreakerAsync("disk-cleanup", default));
    }

    [Fact]
    public async Task ResetBreaker_ClosesIt_AndListBreakersListsThem()
    {
        var openedAt = Now;
        await Store.OpenBreakerAsync("disk-cleanup", Now.AddMinutes(15), "5 failures in 15m", default);
        Time.Advance(TimeSpan.FromMinutes(2));

        await Store.ResetBreakerAsync("disk-cleanup", "alice", default);
        var reset = await Store.GetBreakerAsync("disk-cleanup", default);
        var resetAt = Now;
        await Store.ResetBreakerAsync("log-rotate", "bob", default);
        Time.Advance(TimeSpan.FromMinutes(1));
        var openedAgain = await Store.OpenBreakerAsync("disk-cleanup", Now.AddMinutes(15), "again", default);

        Assert.Equal((null, "alice", resetAt), (reset!.OpenUntil, reset.ResetBy, reset.ResetAt));
        Assert.Equal(openedAt, reset.OpenedAt);
        Assert.True(openedAgain);
        Assert.Equal(
            [
                new BreakerRecord("disk-cleanup", Now, Now.AddMinutes(15), "again", "alice", resetAt),
                new BreakerRecord("log-rotate", null, null, null, "bob", resetAt),
            ],
            await Store.ListBreakersAsync(default));
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);

    private static ParsedAlert Parsed(string key, string fingerprint = "fp-1", AlertStatus status = AlertStatus.Firing, string source = Alertmanager, DateTimeOffset? startsAt = null) =>
        new(new RunbookAlert(source, "DiskFull", status, "critical",
            new Dictionary<string, string> { ["alertname"] = "DiskFull", ["instance"] = "web-1" }, new Dictionary<string, string>(),
            startsAt ?? At("2026-11-23T07:50:00Z"), status == AlertStatus.Resolved ? At("2026-11-23T07:59:00Z") : null, fingerprint), key);

    private static WebhookDelivery Delivery(params ParsedAlert[] alerts) => new(alerts[0].Alert.Source, null, "{\"alerts\":[]}", alerts);

    private static NewRun AlertRun(string runbook, string? alertId, string? target = null) =>
        new(runbook, null, "hash", RunTrigger.Alert, alertId ?? "alertmanager:DiskFull", AlertId: alertId, Target: target);

    private static void AssertSameAlert(RunbookAlert expected, RunbookAlert actual, DateTimeOffset startsAt, DateTimeOffset? endsAt, string? deliveryId)
    {
        Assert.Equal((expected.Source, expected.Name, expected.Status, expected.Severity, expected.Fingerprint), (actual.Source, actual.Name, actual.Status, actual.Severity, actual.Fingerprint));
        Assert.Equal(expected.Labels.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Labels.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(expected.Annotations.OrderBy(p => p.Key, StringComparer.Ordinal), actual.Annotations.OrderBy(p => p.Key, StringComparer.Ordinal));
        Assert.Equal(startsAt, actual.StartsAt);
        Assert.Equal(endsAt, actual.EndsAt);
        Assert.Equal(deliveryId, actual.DeliveryId);
    }

    private async Task<StoredAlert> IngestOneAsync(ParsedAlert alert) => Assert.Single(await Store.IngestAsync(Delivery(alert), default));

    /// <summary>Stores an alert a second after the previous one (so the list order is known) and gives it an outcome.</summary>
    private async Task<string> IngestOutcomeAsync(ParsedAlert alert, AlertOutcome? outcome)
    {
        Time.Advance(TimeSpan.FromSeconds(1));
        var stored = await IngestOneAsync(alert);
        if (outcome is { } value)
        {
            await Store.SetOutcomeAsync(stored.Id, value, null, default);
        }

        return stored.Id;
    }

    private async Task<AlertRecord> GetAsync(string id) => await Store.GetAlertAsync(id, default) ?? throw new InvalidOperationException($"alert {id} is not stored");

    private async Task<List<AlertRecord>> GetAllAsync(IEnumerable<string> ids)
    {
        var records = new List<AlertRecord>();
        foreach (var id in ids)
        {
            records.Add(await GetAsync(id));
        }

        return records;
    }

    private async Task<RunRecord> FinishedRunAsync(NewRun run, RunStatus status)
    {
        var created = await Store.CreateRunAsync(run, default);
        await Store.StartRunAsync(created.Id, "node-1", recovering: false, default);
        await Store.FinishRunAsync(created.Id, status, status == RunStatus.Succeeded ? null : "it went wrong", default);
        return await Store.GetRunAsync(created.Id, default) ?? throw new InvalidOperationException($"run {created.Id} is not stored");
    }
}
