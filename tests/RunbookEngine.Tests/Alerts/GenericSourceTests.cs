using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class GenericSourceTests
{
    [Fact]
    public void OneAlertObject_WithOnlyAName_FiresNow_WithAComputedFingerprint()
    {
        var parsed = Assert.Single(Accept("generic", "{\"name\": \"BackupFailed\"}").Alerts);

        var alert = parsed.Alert;
        Assert.Equal(("generic", "BackupFailed", AlertStatus.Firing), (alert.Source, alert.Name, alert.Status));
        Assert.Null(alert.Severity);
        Assert.Empty(alert.Labels);
        Assert.Empty(alert.Annotations);
        Assert.Equal(ReceivedAt, alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal("19de3079ef9a1ebf", alert.Fingerprint);
        Assert.Equal("generic:19de3079ef9a1ebf:2026-11-23T08:00:00.0000000+00:00:firing", parsed.DedupKey);
    }

    [Fact]
    public void ComputedFingerprint_IsSha256OfNameAndSortedLabels_WhateverTheOrder()
    {
        var a = Assert.Single(Accept("generic", "{\"name\": \"BackupFailed\", \"labels\": {\"host\": \"db-1\", \"severity\": \"critical\"}}").Alerts);
        var b = Assert.Single(Accept("generic", "{\"labels\": {\"severity\": \"critical\", \"host\": \"db-1\"}, \"name\": \"BackupFailed\"}").Alerts);

        // Pinned: sha256("BackupFailed\xff" "host\xff" "db-1\xff" "severity\xff" "critical\xff")[..16], so stored keys survive a refactor.
        Assert.Equal("2d9a2d8a0ed8c46e", a.Alert.Fingerprint);
        Assert.Equal(a.Alert.Fingerprint, b.Alert.Fingerprint);
        Assert.Equal("critical", a.Alert.Severity);
    }

    [Fact]
    public void AlertsList_WithEveryField_IsReadAsSent()
    {
        const string Body = """
            {"alerts": [
              {"name": "BackupFailed", "status": "resolved", "severity": "warning", "labels": {"host": "db-1", "severity": "critical"},
               "annotations": {"summary": "nightly backup failed"}, "fingerprint": "backup-db-1",
               "startsAt": "2026-11-22T01:00:00+01:00", "endsAt": "2026-11-22T02:30:00Z"},
              {"name": "DiskFull", "startsAt": "2026-11-22T03:00:00.123456789Z"}
            ]}
            """;

        var accepted = Accept("generic", Body);

        Assert.Null(accepted.Note);
        Assert.Equal(2, accepted.Alerts.Count);
        var backup = accepted.Alerts[0];
        Assert.Equal(("BackupFailed", AlertStatus.Resolved, "warning", "backup-db-1"), (backup.Alert.Name, backup.Alert.Status, backup.Alert.Severity, backup.Alert.Fingerprint));
        Assert.Equal("nightly backup failed", backup.Alert.Annotation("summary"));
        Assert.Equal(Time("2026-11-22T00:00:00Z"), backup.Alert.StartsAt);
        Assert.Equal(Time("2026-11-22T02:30:00Z"), backup.Alert.EndsAt);
        Assert.Equal("generic:backup-db-1:2026-11-22T00:00:00.0000000+00:00:resolved", backup.DedupKey);
        Assert.Equal(Time("2026-11-22T03:00:00.1234567Z"), accepted.Alerts[1].Alert.StartsAt);
        Assert.Equal(Body, backup.Alert.RawPayload);
    }

    [Fact]
    public void WithoutStartsAt_EachDeliveryIsNew_WithIt_AResendCollapses()
    {
        var source = Source("generic");
        WebhookParseResult Parse(string body, DateTimeOffset at) => source.Parse(Request(body), at);
        string Key(WebhookParseResult result) => Assert.Single(Assert.IsType<WebhookAccepted>(result).Alerts).DedupKey;

        Assert.NotEqual(Key(Parse("{\"name\": \"X\"}", ReceivedAt)), Key(Parse("{\"name\": \"X\"}", ReceivedAt.AddSeconds(1))));
        const string Dated = "{\"name\": \"X\", \"startsAt\": \"2026-11-22T00:00:00Z\"}";
        Assert.Equal(Key(Parse(Dated, ReceivedAt)), Key(Parse(Dated, ReceivedAt.AddSeconds(1))));
    }

    [Theory]
    [InlineData("{\"severity\": \"critical\"}", "name: missing")]
    [InlineData("{\"name\": \"\"}", "name: empty")]
    [InlineData("{\"name\": 5}", "name: expected a string, got a number")]
    [InlineData("{\"name\": \"X\", \"status\": \"open\"}", "status: expected \"firing\" or \"resolved\", got \"open\"")]
    [InlineData("{\"name\": \"X\", \"labels\": [\"a\"]}", "labels: expected an object, got an array")]
    [InlineData("{\"name\": \"X\", \"labels\": {\"n\": 1}}", "labels.n: expected a string, got a number")]
    [InlineData("{\"name\": \"X\", \"annotations\": {\"ok\": true}}", "annotations.ok: expected a string, got a boolean")]
    [InlineData("{\"name\": \"X\", \"startsAt\": 1700000000}", "startsAt: expected an RFC 3339 timestamp string, got a number")]
    [InlineData("{\"name\": \"X\", \"endsAt\": \"2026-11-22T25:00:00Z\"}", "endsAt: not an RFC 3339 timestamp")]
    [InlineData("{\"alerts\": []}", "no alerts")]
    [InlineData("{\"alerts\": {\"name\": \"X\"}}", "alerts: expected an array, got an object")]
    [InlineData("{\"alerts\": [{\"name\": \"X\"}, {\"nam\": \"Y\"}]}", "alerts[1].name: missing")]
    [InlineData("{\"alerts\": [{\"name\": \"X\"}, 7]}", "alerts[1]: expected an object, got a number")]
    public void WrongShape_IsRejected_NamingTheField(string body, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("generic", body));
    }
}
