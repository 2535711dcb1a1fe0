using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class PagerDutySourceTests
{
    private const string Triggered = "pagerduty/zulip-incident-triggered-v3.json";
    private const string PriorityUpdated = "pagerduty/go-pagerduty-signed-priority-updated.body.json";
    private const string EventId = "01BZYIL05THJDFF2Y08X9SVMTU";

    [Fact]
    public void IncidentTriggered_IsOneFiringAlert_KeyedByTheEventId_WithoutAWebhookIdHeader()
    {
        var parsed = Webhook.Single("pagerduty", Fixture(Triggered));

        var alert = parsed.Alert;
        Assert.Equal(("pagerduty", "Test Incident 3", AlertStatus.Firing, "high"), (alert.Source, alert.Name, alert.Status, alert.Severity));
        Assert.Equal("PFQZPSY", alert.Fingerprint);
        Assert.Equal(new Dictionary<string, string> { ["service"] = "pig208", ["urgency"] = "high", ["incident_number"] = "9" }, alert.Labels);
        Assert.Equal(new Dictionary<string, string> { ["html_url"] = "https://pig208.pagerduty.com/incidents/PFQZPSY" }, alert.Annotations);
        Assert.Equal(Time("2021-06-04T13:35:29.781Z"), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal(EventId, alert.DeliveryId);
        Assert.Equal($"pagerduty:{EventId}", parsed.DedupKey);
    }

    [Fact]
    public void TheUnsignedWebhookIdHeader_ChangesNeitherTheDeliveryIdNorTheDedupKey()
    {
        var plain = Assert.Single(Accept("pagerduty", Fixture(Triggered)).Alerts);
        var withHeader = Assert.Single(Accept("pagerduty", Request(Fixture(Triggered), "application/json", ("X-Webhook-Id", "a-fresh-header-for-a-replay"))).Alerts);

        Assert.Equal((EventId, $"pagerduty:{EventId}"), (withHeader.Alert.DeliveryId, withHeader.DedupKey));
        Assert.Equal(plain.DedupKey, withHeader.DedupKey);
    }

    [Fact]
    public void PriorityUpdated_IsAccepted_WithNothingToStore()
    {
        var accepted = Accept("pagerduty", Fixture(PriorityUpdated));

        Assert.Empty(accepted.Alerts);
        Assert.Equal("ignored event type incident.priority_updated", accepted.Note);
    }

    [Theory]
    [InlineData("incident.acknowledged")]
    [InlineData("incident.annotated")]
    [InlineData("service.updated")]
    public void OtherEventTypes_AreAccepted_AndIgnored(string eventType)
    {
        var accepted = Accept("pagerduty", Edit(Triggered, ("\"incident.triggered\"", $"\"{eventType}\"")));

        Assert.Empty(accepted.Alerts);
        Assert.Equal($"ignored event type {eventType}", accepted.Note);
    }

    [Fact]
    public void PageyPing_IsAccepted_AndIgnored()
    {
        const string Ping = """{"event":{"id":"01DEN6HHJXSRR4SVDDG0QS1KCP","event_type":"pagey.ping","resource_type":"pagey","occurred_at":"2021-12-08T22:45:39.470Z","agent":null,"client":null,"data":{"message":"Hello from your friend Pagey!","type":"ping"}}}""";

        var accepted = Accept("pagerduty", Ping);

        Assert.Empty(accepted.Alerts);
        Assert.Equal("ignored event type pagey.ping", accepted.Note);
    }

    [Fact]
    public void IncidentResolved_EndsWhenItOccurred()
    {
        var body = Edit(
            Triggered,
            ("\"incident.triggered\"", "\"incident.resolved\""),
            ("\"occurred_at\": \"2021-06-04T13:35:29.781Z\"", "\"occurred_at\": \"2021-06-04T14:00:00Z\""),
            ("\"number\": 9,", "\"number\": 9,\n      \"created_at\": \"2021-06-04T13:35:29Z\","));

        var parsed = Webhook.Single("pagerduty", body);

        Assert.Equal(AlertStatus.Resolved, parsed.Alert.Status);
        Assert.Equal(Time("2021-06-04T13:35:29Z"), parsed.Alert.StartsAt);
        Assert.Equal(Time("2021-06-04T14:00:00Z"), parsed.Alert.EndsAt);
        Assert.Equal("PFQZPSY", parsed.Alert.Fingerprint);
    }

    [Fact]
    public void IncidentReopened_FiresAgain_FromTheReopening()
    {
        var body = Edit(
            Triggered,
            ("\"incident.triggered\"", "\"incident.reopened\""),
            ("\"number\": 9,", "\"number\": 9,\n      \"created_at\": \"2021-06-01T00:00:00Z\","));

        var parsed = Webhook.Single("pagerduty", body);

        Assert.Equal(AlertStatus.Firing, parsed.Alert.Status);
        Assert.Equal(Time("2021-06-04T13:35:29.781Z"), parsed.Alert.StartsAt);
    }

    [Fact]
    public void Triggered_WithAPriority_LabelsItByItsSummary()
    {
        var body = Edit(PriorityUpdated, ("\"incident.priority_updated\"", "\"incident.triggered\""));

        var alert = Webhook.Single("pagerduty", body).Alert;

        Assert.Equal(
            new Dictionary<string, string> { ["service"] = "API Service", ["urgency"] = "high", ["priority"] = "P1", ["incident_number"] = "2" },
            alert.Labels);
        Assert.Equal(("A little bump in the road", "PGR0VU2"), (alert.Name, alert.Fingerprint));
    }

    [Fact]
    public void IncidentKey_IsALabel_WhenPresent()
    {
        var body = Edit(Triggered, ("\"urgency\": \"high\",", "\"urgency\": \"high\",\n      \"incident_key\": \"disk/web-1\","));

        Assert.Equal("disk/web-1", Webhook.Single("pagerduty", body).Alert.Label("incident_key"));
    }

    [Theory]
    [InlineData("{\"messages\":[]}", "event: missing")]
    [InlineData("{\"event\":[]}", "event: expected an object, got an array")]
    [InlineData("{\"event\":{\"id\":\"E1\"}}", "event.event_type: missing")]
    [InlineData("{\"event\":{\"event_type\":\"incident.triggered\"}}", "event.id: missing")]
    [InlineData("{\"event\":{\"id\":\"E1\",\"event_type\":\"incident.triggered\",\"occurred_at\":\"2021-06-04T13:35:29.781Z\"}}", "event.data: missing")]
    public void WrongShape_IsRejected_NamingTheField(string body, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("pagerduty", body));
    }

    [Theory]
    [InlineData("\"title\": \"Test Incident 3\",", "", "event.data.title: missing")]
    [InlineData("\"urgency\": \"high\"", "\"urgency\": 1", "event.data.urgency: expected a string, got a number")]
    [InlineData("\"occurred_at\": \"2021-06-04T13:35:29.781Z\"", "\"occurred_at\": 1622813729", "event.occurred_at: expected an RFC 3339 timestamp string, got a number")]
    [InlineData("\"summary\": \"pig208\"", "\"summary\": [\"pig208\"]", "event.data.service.summary: expected a string, got an array")]
    public void WrongFieldInARealPayload_IsRejected_NamingTheField(string find, string replace, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("pagerduty", Edit(Triggered, (find, replace))));
    }
}
