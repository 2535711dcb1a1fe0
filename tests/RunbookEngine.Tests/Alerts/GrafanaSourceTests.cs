using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class GrafanaSourceTests
{
    private const string Docs = "grafana/docs-firing-two-alerts.json";
    private const string TestPayload = "grafana/alerting-test-default-payload-firing.json";

    [Fact]
    public void DocsPayload_IsTwoFiringAlerts_NamedByAlertname()
    {
        var accepted = Accept("grafana", Fixture(Docs));

        Assert.Equal(2, accepted.Alerts.Count);
        var memory = accepted.Alerts[0];
        Assert.Equal(("grafana", "High memory usage", AlertStatus.Firing), (memory.Alert.Source, memory.Alert.Name, memory.Alert.Status));
        Assert.Null(memory.Alert.Severity);
        Assert.Equal(new Dictionary<string, string> { ["alertname"] = "High memory usage", ["team"] = "blue", ["zone"] = "us-1" }, memory.Alert.Labels);
        Assert.Equal("https://myrunbook.com/runbook/1234", memory.Alert.Annotation("runbook_url"));
        Assert.Equal(3, memory.Alert.Annotations.Count);
        Assert.Equal(Time("2021-10-12T07:51:03.157076Z"), memory.Alert.StartsAt);
        Assert.Null(memory.Alert.EndsAt);
        Assert.Equal("c6eadffa33fcdf37", memory.Alert.Fingerprint);

        // The key is in UTC, whatever offset Grafana wrote.
        Assert.Equal("grafana:c6eadffa33fcdf37:2021-10-12T07:51:03.1570760+00:00:firing", memory.DedupKey);
        Assert.Equal(("High CPU usage", "bc97ff14869b13e3"), (accepted.Alerts[1].Alert.Name, accepted.Alerts[1].Alert.Fingerprint));
        Assert.Equal("grafana:bc97ff14869b13e3:2021-10-12T07:56:03.1570760+00:00:firing", accepted.Alerts[1].DedupKey);
    }

    [Fact]
    public void DefaultTemplatePayload_WithGoZeroStartsAt_StartsOnArrival_ButKeepsAStableKey()
    {
        var parsed = Webhook.Single("grafana", Fixture(TestPayload));

        Assert.Equal(("alert1", AlertStatus.Firing, "fac0861a85de433a"), (parsed.Alert.Name, parsed.Alert.Status, parsed.Alert.Fingerprint));
        Assert.Equal(new Dictionary<string, string> { ["alertname"] = "alert1", ["lbl1"] = "val1" }, parsed.Alert.Labels);
        Assert.Equal(new Dictionary<string, string> { ["ann1"] = "annv1" }, parsed.Alert.Annotations);
        Assert.Equal(ReceivedAt, parsed.Alert.StartsAt);
        Assert.Null(parsed.Alert.EndsAt);
        Assert.Equal("grafana:fac0861a85de433a:0001-01-01T00:00:00.0000000+00:00:firing", parsed.DedupKey);

        var later = Assert.IsType<WebhookAccepted>(Source("grafana").Parse(Request(Fixture(TestPayload)), ReceivedAt.AddMinutes(5)));
        Assert.Equal(parsed.DedupKey, Assert.Single(later.Alerts).DedupKey);
    }

    [Fact]
    public void WithoutAlertname_TheNameIsThePayloadTitle()
    {
        var body = Edit(TestPayload, ("\"labels\": {\n        \"alertname\": \"alert1\",\n", "\"labels\": {\n"));

        Assert.Equal("[FIRING:1]  (val1)", Webhook.Single("grafana", body).Alert.Name);
    }

    [Fact]
    public void WithoutAlertnameOrTitle_IsRejected()
    {
        var body = Edit(
            TestPayload,
            ("\"labels\": {\n        \"alertname\": \"alert1\",\n", "\"labels\": {\n"),
            ("\"title\": \"[FIRING:1]  (val1)\",\n", ""));

        Assert.Equal(new WebhookRejected(400, "alerts[0].labels.alertname: missing"), Reject("grafana", body));
    }

    [Fact]
    public void Resolved_AsGrafanaSendsIt_HasAnEnd_AndADifferentKey()
    {
        // Grafana's repos hold no resolved body; this is the docs payload changed the way grafana/alerting's webhook.go changes it on resolve.
        var body = Edit(
            Docs,
            ("\"status\": \"firing\",\n  \"orgId\"", "\"status\": \"resolved\",\n  \"orgId\""),
            ("\"status\": \"firing\",\n      \"labels\": {\n        \"alertname\": \"High memory usage\"", "\"status\": \"resolved\",\n      \"labels\": {\n        \"alertname\": \"High memory usage\""),
            ("\"startsAt\": \"2021-10-12T09:51:03.157076+02:00\",\n      \"endsAt\": \"0001-01-01T00:00:00Z\"", "\"startsAt\": \"2021-10-12T09:51:03.157076+02:00\",\n      \"endsAt\": \"2021-10-12T10:01:03+02:00\""),
            ("\"state\": \"alerting\"", "\"state\": \"ok\""));

        var firing = Accept("grafana", Fixture(Docs)).Alerts[0];
        var resolved = Accept("grafana", body).Alerts[0];

        Assert.Equal(AlertStatus.Resolved, resolved.Alert.Status);
        Assert.Equal(Time("2021-10-12T08:01:03Z"), resolved.Alert.EndsAt);
        Assert.Equal(firing.Alert.Fingerprint, resolved.Alert.Fingerprint);
        Assert.Equal("grafana:c6eadffa33fcdf37:2021-10-12T07:51:03.1570760+00:00:resolved", resolved.DedupKey);
    }

    [Fact]
    public void AlertmanagersVersion_IsNotGrafanas()
    {
        var body = Edit(TestPayload, ("\"version\": \"1\"", "\"version\": \"4\""));

        Assert.Equal(new WebhookRejected(400, "version: expected \"1\", got \"4\""), Reject("grafana", body));
        Assert.Equal(new WebhookRejected(400, "version: expected \"4\", got \"1\""), Reject("alertmanager", Fixture(TestPayload)));
    }
}
