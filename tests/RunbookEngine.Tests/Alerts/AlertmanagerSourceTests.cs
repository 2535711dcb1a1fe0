using System.Text;
using System.Text.Json;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class AlertmanagerSourceTests
{
    private const string Single = "alertmanager/live-firing-single.json";
    private const string Resolved = "alertmanager/live-resolved.json";
    private const string Grouped = "alertmanager/live-firing-grouped.json";
    private const string SentStartsAt = "\"startsAt\":\"2026-11-22T10:04:39.454219479Z\"";

    [Fact]
    public void LiveFiringSingle_IsOneFiringAlert_WithEverythingAlertmanagerSent()
    {
        var body = Fixture(Single);

        var parsed = Webhook.Single("alertmanager", body);

        var alert = parsed.Alert;
        Assert.Equal(("alertmanager", "DiskFull", AlertStatus.Firing, "critical"), (alert.Source, alert.Name, alert.Status, alert.Severity));
        Assert.Equal(
            new Dictionary<string, string> { ["alertname"] = "DiskFull", ["instance"] = "web-1:9100", ["job"] = "node", ["severity"] = "critical" },
            alert.Labels);
        Assert.Equal(
            new Dictionary<string, string> { ["runbook_url"] = "https://runbooks.example.com/disk-full", ["summary"] = "Disk almost full on web-1" },
            alert.Annotations);

        // Nanoseconds are truncated to DateTimeOffset's 100 ns.
        Assert.Equal(Time("2026-11-22T10:04:39.4542194Z"), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal("960e3172b39aa9e4", alert.Fingerprint);
        Assert.Null(alert.DeliveryId);
        Assert.Equal(Encoding.UTF8.GetString(body), alert.RawPayload);
        Assert.EndsWith("}\n", alert.RawPayload, StringComparison.Ordinal);
        Assert.Equal("alertmanager:960e3172b39aa9e4:2026-11-22T10:04:39.4542194+00:00:firing", parsed.DedupKey);
    }

    [Fact]
    public void LiveResolved_SharesTheFingerprint_ButNotTheDedupKey()
    {
        var firing = Webhook.Single("alertmanager", Fixture(Single));

        var resolved = Webhook.Single("alertmanager", Fixture(Resolved));

        Assert.Equal(AlertStatus.Resolved, resolved.Alert.Status);
        Assert.Equal(Time("2026-11-22T10:04:55Z"), resolved.Alert.EndsAt);
        Assert.Equal(firing.Alert.StartsAt, resolved.Alert.StartsAt);
        Assert.Equal(firing.Alert.Fingerprint, resolved.Alert.Fingerprint);
        Assert.Equal("alertmanager:960e3172b39aa9e4:2026-11-22T10:04:39.4542194+00:00:resolved", resolved.DedupKey);
        Assert.NotEqual(firing.DedupKey, resolved.DedupKey);
    }

    [Fact]
    public void LiveFiringGrouped_IsThreeAlerts_InOrder_WithTheirOwnKeys()
    {
        var accepted = Accept("alertmanager", Fixture(Grouped));

        Assert.Null(accepted.Note);
        Assert.Equal(["04bc28d9238102ec", "8d81bbbd354ca2cf", "79b50f1124244686"], accepted.Alerts.Select(a => a.Alert.Fingerprint));
        Assert.Equal(["checkout-1:8080", "checkout-2:8080", "checkout-3:8080"], accepted.Alerts.Select(a => a.Alert.Label("instance")));
        Assert.All(accepted.Alerts, a => Assert.Equal(("HighLatency", AlertStatus.Firing, "warning"), (a.Alert.Name, a.Alert.Status, a.Alert.Severity)));
        Assert.Equal(Time("2026-11-22T10:04:48.1206251Z"), accepted.Alerts[1].Alert.StartsAt);
        Assert.Equal("p99 latency above 500ms on checkout-3", accepted.Alerts[2].Alert.Annotation("summary"));
        Assert.Equal(3, accepted.Alerts.Select(a => a.DedupKey).Distinct().Count());
        Assert.Equal("alertmanager:8d81bbbd354ca2cf:2026-11-22T10:04:48.1206251+00:00:firing", accepted.Alerts[1].DedupKey);
    }

    [Fact]
    public void CapturedLive_RawBodyWithItsHeaders_ParsesLikeTheSameRequestOnDisk()
    {
        using var envelope = JsonDocument.Parse(Fixture("alertmanager/captured-live.json"));
        var rawBody = Encoding.UTF8.GetBytes(envelope.RootElement.GetProperty("rawBody").GetString()!);
        var headers = envelope.RootElement.GetProperty("headers").EnumerateArray()
            .Select(pair => (pair[0].GetString()!, pair[1].GetString()!)).ToArray();
        var contentType = headers.Single(h => h.Item1 == "Content-Type").Item2;

        var fromCapture = Webhook.Single("alertmanager", Request(rawBody, contentType, headers));

        Assert.Equal(Fixture(Single), rawBody);
        var fromFile = Webhook.Single("alertmanager", Fixture(Single));
        Assert.Equal(fromFile.DedupKey, fromCapture.DedupKey);
        Assert.Equal(fromFile.Alert with { Labels = fromCapture.Alert.Labels, Annotations = fromCapture.Alert.Annotations }, fromCapture.Alert);
        Assert.Equal(fromFile.Alert.Labels, fromCapture.Alert.Labels);
    }

    [Fact]
    public void TheSameNotification_FromEitherHaPeerOrARetry_HasTheSameDedupKeys()
    {
        var first = Source("alertmanager").Parse(Request(Fixture(Grouped)), ReceivedAt);
        var retry = Source("alertmanager").Parse(Request(Fixture(Grouped)), ReceivedAt.AddSeconds(30));

        Assert.Equal(
            Assert.IsType<WebhookAccepted>(first).Alerts.Select(a => a.DedupKey),
            Assert.IsType<WebhookAccepted>(retry).Alerts.Select(a => a.DedupKey));
    }

    [Fact]
    public void MissingFingerprint_IsComputedTheWayAlertmanagerDoes()
    {
        var body = Edit(Single, (",\"fingerprint\":\"960e3172b39aa9e4\"", ""));

        Assert.Equal("960e3172b39aa9e4", Webhook.Single("alertmanager", body).Alert.Fingerprint);
    }

    [Fact]
    public void ComputedFingerprint_DoesNotDependOnLabelOrder()
    {
        var body = Edit(
            Single,
            (",\"fingerprint\":\"960e3172b39aa9e4\"", ""),
            ("{\"alertname\":\"DiskFull\",\"instance\":\"web-1:9100\",\"job\":\"node\",\"severity\":\"critical\"}",
             "{\"severity\":\"critical\",\"job\":\"node\",\"instance\":\"web-1:9100\",\"alertname\":\"DiskFull\"}"));

        Assert.Equal("960e3172b39aa9e4", Webhook.Single("alertmanager", body).Alert.Fingerprint);
    }

    [Fact]
    public void MissingVersion_IsAccepted_ButAnotherVersionIsNot()
    {
        Webhook.Single("alertmanager", Edit(Single, (",\"version\":\"4\"", "")));

        Assert.Equal(new WebhookRejected(400, "version: expected \"4\", got \"5\""), Reject("alertmanager", Edit(Single, ("\"version\":\"4\"", "\"version\":\"5\""))));
        Assert.Equal(new WebhookRejected(400, "version: expected a string, got a number"), Reject("alertmanager", Edit(Single, ("\"version\":\"4\"", "\"version\":4"))));
    }

    [Fact]
    public void NullAnnotations_AreEmpty_AsGoEncodesANilMap()
    {
        var body = Edit(Single, ("\"annotations\":{\"runbook_url\":\"https://runbooks.example.com/disk-full\",\"summary\":\"Disk almost full on web-1\"}", "\"annotations\":null"));

        Assert.Empty(Webhook.Single("alertmanager", body).Alert.Annotations);
    }

    [Fact]
    public void TruncatedAlerts_AreAccepted_WithANote()
    {
        var accepted = Accept("alertmanager", Edit(Grouped, ("\"truncatedAlerts\":0", "\"truncatedAlerts\":2")));

        Assert.Equal(3, accepted.Alerts.Count);
        Assert.Equal("sender truncated 2 alert(s) (max_alerts)", accepted.Note);
    }

    [Fact]
    public void Labels_AreCopies_ThatCannotBeChangedThroughTheInterface()
    {
        var labels = Webhook.Single("alertmanager", Fixture(Single)).Alert.Labels;

        Assert.IsNotType<Dictionary<string, string>>(labels);
        Assert.False(labels.ContainsKey("ALERTNAME"));
    }

    [Theory]
    [InlineData(SentStartsAt, "\"startsAt\":1700000000", "alerts[0].startsAt: expected an RFC 3339 timestamp string, got a number")]
    [InlineData(SentStartsAt, "\"startsAt\":\"yesterday\"", "alerts[0].startsAt: not an RFC 3339 timestamp")]
    [InlineData(SentStartsAt, "\"startsAt\":\"2026-11-22 10:04:39Z\"", "alerts[0].startsAt: not an RFC 3339 timestamp")]
    [InlineData(SentStartsAt, "\"startsAt\":\"2026-02-30T10:04:39Z\"", "alerts[0].startsAt: not an RFC 3339 timestamp")]
    [InlineData(SentStartsAt + ",", "", "alerts[0].startsAt: missing")]
    [InlineData("\"endsAt\":\"0001-01-01T00:00:00Z\"", "\"endsAt\":false", "alerts[0].endsAt: expected an RFC 3339 timestamp string, got a boolean")]
    [InlineData("\"labels\":{\"alertname\":\"DiskFull\",", "\"labels\":[\"alertname\"],\"x\":{", "alerts[0].labels: expected an object, got an array")]
    [InlineData("\"severity\":\"critical\"}", "\"severity\":3}", "alerts[0].labels.severity: expected a string, got a number")]
    [InlineData("\"summary\":\"Disk almost full on web-1\"}", "\"summary\":{\"text\":\"x\"}}", "alerts[0].annotations.summary: expected a string, got an object")]
    [InlineData("\"labels\":{\"alertname\":\"DiskFull\",", "\"labels\":{\"my.label\":1,", "alerts[0].labels[\"my.label\"]: expected a string, got a number")]
    [InlineData("\"labels\":{\"alertname\":\"DiskFull\",", "\"labels\":{", "alerts[0].labels.alertname: missing")]
    [InlineData("[{\"status\":\"firing\",", "[{\"status\":\"pending\",", "alerts[0].status: expected \"firing\" or \"resolved\", got \"pending\"")]
    [InlineData("\"fingerprint\":\"960e3172b39aa9e4\"", "\"fingerprint\":960", "alerts[0].fingerprint: expected a string, got a number")]
    public void WrongShape_IsRejected_NamingTheField(string find, string replace, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("alertmanager", Edit(Single, (find, replace))));
    }

    [Fact]
    public void AnErrorInALaterAlert_NamesItsIndex()
    {
        var body = Edit(Grouped, ("\"startsAt\":\"2026-11-22T10:04:48.120625152Z\"", "\"startsAt\":\"2026-11-22T10:04:48.120625152\""));

        Assert.Equal(new WebhookRejected(400, "alerts[1].startsAt: not an RFC 3339 timestamp"), Reject("alertmanager", body));
    }

    [Theory]
    [InlineData("{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]}", "no alerts")]
    [InlineData("{\"version\":\"4\",\"status\":\"firing\"}", "alerts: missing")]
    [InlineData("{\"version\":\"4\",\"alerts\":null}", "alerts: missing")]
    [InlineData("{\"version\":\"4\",\"alerts\":{}}", "alerts: expected an array, got an object")]
    [InlineData("{\"version\":\"4\",\"alerts\":[\"DiskFull\"]}", "alerts[0]: expected an object, got a string")]
    public void NoUsableAlertList_IsRejected(string body, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("alertmanager", body));
    }

    [Fact]
    public void PerAlertStatus_FallsBackToTheGroupStatus()
    {
        var body = Edit(Resolved, ("[{\"status\":\"resolved\",", "[{"));

        Assert.Equal(AlertStatus.Resolved, Webhook.Single("alertmanager", body).Alert.Status);
    }
}
