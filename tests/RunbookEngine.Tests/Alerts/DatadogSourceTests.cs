using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class DatadogSourceTests
{
    private const string Relay = "datadog/relay-default-payload-service-check-triggered.json";
    private const string Template = "datadog/docs-default-payload-template.json";
    private const string CapturedTriggered = "datadog/fluffy-custom-payload-triggered.json";
    private const string CapturedRecovered = "datadog/fluffy-custom-payload-recovered.json";

    [Fact]
    public void RealDefaultPayload_IsOneFiringAlert_NamedWithoutTheTransitionPrefix()
    {
        var parsed = Webhook.Single("datadog", Fixture(Relay));

        var alert = parsed.Alert;
        Assert.Equal(("datadog", "[TEST] Host Cluster Alert", AlertStatus.Firing), (alert.Source, alert.Name, alert.Status));
        Assert.Null(alert.Severity);
        Assert.Equal("[TEST] Host Cluster Alert", alert.Fingerprint);
        Assert.Equal("5485379890863845239", alert.DeliveryId);
        Assert.Equal(new Dictionary<string, string> { ["event_type"] = "service_check" }, alert.Labels);
        Assert.Equal("[Triggered] [TEST] Host Cluster Alert", alert.Annotation("title"));
        Assert.Equal("Puppet", alert.Annotation("org"));
        Assert.StartsWith("%%%\n@webhook-relay-test", alert.Annotation("body"), StringComparison.Ordinal);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1591216985000), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal("datadog:5485379890863845239", parsed.DedupKey);
    }

    [Fact]
    public void UnsubstitutedTemplate_IsAccepted_AndDatedOnArrival()
    {
        // Datadog leaves unknown $VARIABLES in place; the dates are then not timestamps, so the arrival time stands in.
        var parsed = Webhook.Single("datadog", Fixture(Template));

        Assert.Equal(("$EVENT_TITLE", AlertStatus.Firing, "$ID"), (parsed.Alert.Name, parsed.Alert.Status, parsed.Alert.Fingerprint));
        Assert.Equal(ReceivedAt, parsed.Alert.StartsAt);
        Assert.Null(parsed.Alert.EndsAt);
        Assert.Equal("datadog:$ID", parsed.DedupKey);
    }

    [Fact]
    public void RecoveredTitle_Resolves_AtLastUpdated()
    {
        var body = Edit(
            Relay,
            ("\"[Triggered] [TEST] Host Cluster Alert\"", "\"[Recovered] [TEST] Host Cluster Alert\""),
            ("\"last_updated\": \"1591216985000\"", "\"last_updated\": \"1591217285000\""));

        var alert = Webhook.Single("datadog", body).Alert;

        Assert.Equal(("[TEST] Host Cluster Alert", AlertStatus.Resolved), (alert.Name, alert.Status));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1591217285000), alert.EndsAt);
    }

    [Theory]
    [InlineData("[Triggered on {host:web-1}] Disk full", "Disk full", AlertStatus.Firing)]
    [InlineData("[P1] [Recovered on {host:web-1,env:prod}] Disk full", "Disk full", AlertStatus.Resolved)]
    [InlineData("[Re-No Data] Disk full", "Disk full", AlertStatus.Firing)]
    [InlineData("[Warn] Disk full", "Disk full", AlertStatus.Firing)]
    [InlineData("Disk full", "Disk full", AlertStatus.Firing)]
    [InlineData("[Recovered]", "[Recovered]", AlertStatus.Resolved)]
    public void TitlePrefix_GivesTheStatus_AndIsStripped(string title, string name, AlertStatus status)
    {
        var alert = Webhook.Single("datadog", Edit(Relay, ("\"[Triggered] [TEST] Host Cluster Alert\"", $"\"{title}\""))).Alert;

        Assert.Equal((name, status), (alert.Name, alert.Status));
    }

    [Fact]
    public void CustomPayload_WithTheCommonFields_UsesThemAll()
    {
        const string Body = """
            {"id": "7001", "title": "[Recovered] CPU high on web-1", "alert_title": "CPU high", "alert_transition": "Recovered",
             "alert_id": 18692904, "alert_cycle_key": "cycle-42", "aggreg_key": "agg-9", "alert_priority": "P2",
             "tags": "env:prod, service:web,role:db,role:cache,canary", "date": 1591216985, "last_updated": "1591217285",
             "event_type": "metric_alert_monitor", "link": "https://app.datadoghq.com/event/event?id=7001", "org": {"id": 415600, "name": "Puppet"}}
            """;

        var parsed = Assert.Single(Accept("datadog", Body).Alerts);

        var alert = parsed.Alert;
        Assert.Equal(("CPU high", AlertStatus.Resolved, "P2", "cycle-42"), (alert.Name, alert.Status, alert.Severity, alert.Fingerprint));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["env"] = "prod",
                ["service"] = "web",
                ["role"] = "db,cache",
                ["canary"] = "",
                ["event_type"] = "metric_alert_monitor",
                ["alert_id"] = "18692904",
                ["alert_transition"] = "Recovered",
                ["priority"] = "P2",
            },
            alert.Labels);
        Assert.Equal("https://app.datadoghq.com/event/event?id=7001", alert.Annotation("link"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1591216985), alert.StartsAt);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1591217285), alert.EndsAt);
        Assert.Equal(("7001", "datadog:7001"), (alert.DeliveryId, parsed.DedupKey));
    }

    [Theory]
    [InlineData("\"aggreg_key\": \"agg-9\", \"alert_id\": \"5\"", "agg-9")]
    [InlineData("\"alert_cycle_key\": \"\", \"alert_id\": \"5\"", "5")]
    [InlineData("\"priority\": \"P4\"", "[TEST] Host Cluster Alert")]
    public void Fingerprint_PrefersTheCycleKey_ThenAggregationKey_ThenMonitor_ThenTheTitle(string fields, string fingerprint)
    {
        var body = Edit(Relay, ("\"id\": \"5485379890863845239\"", $"\"id\": \"5485379890863845239\", {fields}"));

        Assert.Equal(fingerprint, Webhook.Single("datadog", body).Alert.Fingerprint);
    }

    [Fact]
    public void TagsAsAnArray_AreLabelsToo()
    {
        var body = Edit(Relay, ("\"event_type\": \"service_check\",", "\"event_type\": \"service_check\", \"tags\": [\"env:prod\", \"k8s\"],"));

        var labels = Webhook.Single("datadog", body).Alert.Labels;

        Assert.Equal(("prod", ""), (labels["env"], labels["k8s"]));
    }

    [Theory]
    [InlineData("\"alert_transition\": \"Flapping\"", "alert_transition: unknown transition \"Flapping\"")]
    [InlineData("\"tags\": {\"env\": \"prod\"}", "tags: expected a string or an array, got an object")]
    [InlineData("\"tags\": [\"env:prod\", 3]", "tags[1]: expected a string, got a number")]
    [InlineData("\"alert_id\": true", "alert_id: expected a string or a number, got a boolean")]
    public void WrongCustomField_IsRejected_NamingIt(string field, string reason)
    {
        var body = Edit(Relay, ("\"event_type\": \"service_check\",", $"\"event_type\": \"service_check\", {field},"));

        Assert.Equal(new WebhookRejected(400, reason), Reject("datadog", body));
    }

    [Theory]
    [InlineData("\"date\": \"1591216985000\"", "\"date\": {\"ms\": 1}", "date: expected a timestamp number or string, got an object")]
    [InlineData("\"id\": \"5485379890863845239\"", "\"id\": null", "id: missing (looked for id, event_id, alert_id; map $ID or $ALERT_ID to one of them in the webhook's custom payload, or point RunbookEngine:Alerts:Sources:datadog:Fields:id at it)")]
    [InlineData("\"title\": \"[Triggered] [TEST] Host Cluster Alert\"", "\"title\": 7", "title: expected a string, got a number")]
    public void WrongDefaultField_IsRejected_NamingIt(string find, string replace, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("datadog", Edit(Relay, (find, replace))));
    }

    [Fact]
    public void NoTitleAtAll_IsRejected()
    {
        Assert.Equal(new WebhookRejected(400, "title: missing (looked for alert_title, title; map $EVENT_TITLE to title in the webhook's custom payload, or point RunbookEngine:Alerts:Sources:datadog:Fields:title at it)"), Reject("datadog", "{\"id\": \"1\", \"body\": \"x\"}"));
    }

    [Theory]
    [InlineData("1591216985", 1591216985000)]
    [InlineData("1591216985000", 1591216985000)]
    [InlineData("\"1591216985\"", 1591216985000)]
    [InlineData("\"2020-06-03T20:43:05Z\"", 1591216985000)]
    public void Date_IsEpochSecondsOrMilliseconds_ByMagnitude_OrRfc3339(string date, long expectedMilliseconds)
    {
        var body = Edit(Relay, ("\"date\": \"1591216985000\"", $"\"date\": {date}"));

        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(expectedMilliseconds), Webhook.Single("datadog", body).Alert.StartsAt);
    }

    // Custom templates as teams write them: the event as event_id, the tags as event_tags, the transition spelled out.
    // Shaped after the two refused payloads described in the bug report; the payloads themselves were not available to copy.
    private const string CustomTriggered = """
        {"event_id": "7412853310192837465", "alert_id": "18692904", "alert_transition": "Triggered", "title": "[Triggered] Disk full on db-1",
         "event_tags": "env:prod,host:db-1,team:storage", "date": "1591216985000", "event_type": "metric_alert_monitor"}
        """;

    [Fact]
    public void CustomPayload_WithEventIdAndEventTags_IsAccepted()
    {
        var parsed = Assert.Single(Accept("datadog", CustomTriggered).Alerts);

        var alert = parsed.Alert;
        Assert.Equal(("Disk full on db-1", AlertStatus.Firing, "18692904"), (alert.Name, alert.Status, alert.Fingerprint));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["env"] = "prod",
                ["host"] = "db-1",
                ["team"] = "storage",
                ["event_type"] = "metric_alert_monitor",
                ["alert_id"] = "18692904",
                ["alert_transition"] = "Triggered",
            },
            alert.Labels);
        Assert.Equal(("7412853310192837465", "datadog:7412853310192837465"), (alert.DeliveryId, parsed.DedupKey));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1591216985000), alert.StartsAt);
    }

    [Theory]
    [InlineData("Triggered", AlertStatus.Firing)]
    [InlineData("Re-Triggered", AlertStatus.Firing)]
    [InlineData("Warn", AlertStatus.Firing)]
    [InlineData("No Data", AlertStatus.Firing)]
    [InlineData("Recovered", AlertStatus.Resolved)]
    public void CustomTransition_GivesTheStatus_AndIsALabel(string transition, AlertStatus status)
    {
        var body = CustomTriggered.Replace("\"alert_transition\": \"Triggered\"", $"\"alert_transition\": \"{transition}\"", StringComparison.Ordinal);

        var alert = Webhook.Single("datadog", Request(body)).Alert;

        Assert.Equal((status, transition), (alert.Status, alert.Label("alert_transition")));
        Assert.Equal(status == AlertStatus.Resolved ? DateTimeOffset.FromUnixTimeMilliseconds(1591216985000) : null, alert.EndsAt);
    }

    [Fact]
    public void CustomPayload_WithOnlyTheMonitorId_FiresAndResolves_AsOneAlert_WithTwoKeys()
    {
        const string Triggered = """
            {"alert_id": 18692904, "alert_transition": "Triggered", "alert_title": "Disk full", "event_tags": ["env:prod"], "date": 1591216985}
            """;
        var recovered = Triggered.Replace("Triggered", "Recovered", StringComparison.Ordinal).Replace("1591216985", "1591217285", StringComparison.Ordinal);

        var fired = Assert.Single(Accept("datadog", Triggered).Alerts);
        var resolved = Assert.Single(Accept("datadog", recovered).Alerts);

        Assert.Equal((AlertStatus.Firing, AlertStatus.Resolved), (fired.Alert.Status, resolved.Alert.Status));
        Assert.Equal(("18692904", "18692904"), (fired.Alert.Fingerprint, resolved.Alert.Fingerprint));
        Assert.Equal("prod", fired.Alert.Label("env"));

        // The monitor id is not a notification id: without the transition and date in the key the recovery would be a duplicate.
        Assert.Null(fired.Alert.DeliveryId);
        Assert.Equal("datadog:18692904:Triggered:1591216985", fired.DedupKey);
        Assert.Equal("datadog:18692904:Recovered:1591217285", resolved.DedupKey);
    }

    [Fact]
    public void TagsAndEventTags_AreBothRead()
    {
        var body = CustomTriggered.Replace("\"event_tags\":", "\"tags\": \"service:pg\", \"event_tags\":", StringComparison.Ordinal);

        var labels = Webhook.Single("datadog", Request(body)).Alert.Labels;

        Assert.Equal(("pg", "db-1"), (labels["service"], labels["host"]));
    }

    [Fact]
    public void NoIdAtAll_IsRejected_NamingWhatWasLookedFor()
    {
        Assert.Equal(
            new WebhookRejected(400, "id: missing (looked for id, event_id, alert_id; map $ID or $ALERT_ID to one of them in the webhook's custom payload, or point RunbookEngine:Alerts:Sources:datadog:Fields:id at it)"),
            Reject("datadog", "{\"title\": \"Disk full\", \"event_tags\": \"env:prod\", \"alert_transition\": \"Triggered\"}"));
    }

    [Fact]
    public void RealCustomPayload_Triggered_IsOneFiringAlert_LabelledFromItsEventTags()
    {
        var parsed = Webhook.Single("datadog", Fixture(CapturedTriggered));

        var alert = parsed.Alert;
        Assert.Equal(("datadog", "Dock is almost out of memory...", AlertStatus.Firing), (alert.Source, alert.Name, alert.Status));
        Assert.Null(alert.Severity);
        Assert.Equal("Dock is almost out of memory... on {host:i-3b93aafb}", alert.Fingerprint);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["availability-zone"] = "us-west-1a",
                ["host"] = "i-3b93aafb",
                ["image"] = "ami-9f305fff",
                ["instance-type"] = "c3.large",
                ["kernel"] = "none",
                ["monitor"] = "",
                ["org"] = "6585",
                ["region"] = "us-west-1",
                ["role"] = "dock",
                ["security-group"] = "sg-59a3503c,sg-cb8e7dae",
                ["event_type"] = "metric_alert_monitor",
                ["alert_transition"] = "Triggered",
            },
            alert.Labels);
        Assert.Equal("[Triggered on {host:i-3b93aafb}] Dock is almost out of memory...", alert.Annotation("title"));
        Assert.Equal("https://app.datadoghq.com/event/event?id=3089904566766935419", alert.Annotation("link"));
        Assert.StartsWith("%%%\nrestart docker\n", alert.Annotation("body"), StringComparison.Ordinal);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1448435530000), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal(("3089904566766935419", "datadog:3089904566766935419"), (alert.DeliveryId, parsed.DedupKey));
    }

    [Fact]
    public void RealCustomPayload_Recovered_ResolvesTheSameAlert_AtItsDate()
    {
        var fired = Webhook.Single("datadog", Fixture(CapturedTriggered));
        var parsed = Webhook.Single("datadog", Fixture(CapturedRecovered));

        var alert = parsed.Alert;
        Assert.Equal(("Dock is almost out of memory...", AlertStatus.Resolved), (alert.Name, alert.Status));
        Assert.Equal(fired.Alert.Fingerprint, alert.Fingerprint);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1448435477000), alert.EndsAt);
        Assert.Equal("Recovered", alert.Label("alert_transition"));
        Assert.Equal(
            fired.Alert.Labels.Where(l => l.Key != "alert_transition").ToDictionary(),
            alert.Labels.Where(l => l.Key != "alert_transition").ToDictionary());

        // Each notification has its own event id, so the recovery is never taken for a resend of the trigger.
        Assert.Equal(("3089903685627551077", "datadog:3089903685627551077"), (alert.DeliveryId, parsed.DedupKey));
        Assert.NotEqual(fired.DedupKey, parsed.DedupKey);
    }

    [Fact]
    public void RealCustomPayload_OfAnotherGroup_IsAnotherAlert()
    {
        var otherHost = Edit(CapturedRecovered, ("[Recovered on {host:i-3b93aafb}]", "[Recovered on {host:i-0c1d2e3f}]"));

        var alert = Webhook.Single("datadog", otherHost).Alert;

        Assert.Equal("Dock is almost out of memory... on {host:i-0c1d2e3f}", alert.Fingerprint);
        Assert.NotEqual(Webhook.Single("datadog", Fixture(CapturedTriggered)).Alert.Fingerprint, alert.Fingerprint);
    }

    [Fact]
    public void CustomPayload_WithATransitionButNoPrefixedTitle_PairsByName()
    {
        const string Triggered = """{"event_id": "11", "alert_transition": "Triggered", "title": "Disk full"}""";
        const string Recovered = """{"event_id": "12", "alert_transition": "Recovered", "title": "Disk full"}""";

        var fired = Webhook.Single("datadog", Request(Triggered)).Alert;
        var resolved = Webhook.Single("datadog", Request(Recovered)).Alert;

        Assert.Equal(("Disk full", "Disk full"), (fired.Fingerprint, resolved.Fingerprint));
        Assert.Equal(AlertStatus.Resolved, resolved.Status);
    }
}
