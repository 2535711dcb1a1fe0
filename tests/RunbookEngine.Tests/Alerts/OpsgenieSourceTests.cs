using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class OpsgenieSourceTests
{
    private const string Create = "opsgenie/zulip-create.json";
    private const string AlertId = "ec03dad6-62c8-4c94-b38b-d88f398e900f";

    [Fact]
    public void Create_IsOneFiringAlert_IdentifiedByItsAlias()
    {
        var parsed = Webhook.Single("opsgenie", Fixture(Create));

        var alert = parsed.Alert;
        Assert.Equal(("opsgenie", "another alert", AlertStatus.Firing, "P3"), (alert.Source, alert.Name, alert.Status, alert.Severity));
        Assert.Equal("alert-alias", alert.Fingerprint);
        Assert.Equal(
            new Dictionary<string, string> { ["vip"] = "", ["entity"] = "Server", ["source"] = "test@example.com", ["priority"] = "P3" },
            alert.Labels);
        Assert.Equal(new Dictionary<string, string> { ["tinyId"] = "2", ["username"] = "test@example.com" }, alert.Annotations);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1502709956288), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Null(alert.DeliveryId);

        // updatedAt is nanoseconds: every digit is kept, which a double would not do.
        Assert.Equal($"opsgenie:{AlertId}:Create:1502709956288000110", parsed.DedupKey);
    }

    [Fact]
    public void Close_Resolves_AtUpdatedAt_WithTheSameFingerprint_AndAnotherKey()
    {
        var created = Webhook.Single("opsgenie", Fixture(Create));

        var closed = Webhook.Single("opsgenie", Edit(Create, ("\"action\":\"Create\"", "\"action\":\"Close\""), ("\"updatedAt\":1502709956288000110", "\"updatedAt\":1502710256288000110")));

        Assert.Equal(AlertStatus.Resolved, closed.Alert.Status);
        Assert.Equal(Time("2017-08-14T11:30:56.2880001Z"), closed.Alert.EndsAt);
        Assert.Equal(created.Alert.Fingerprint, closed.Alert.Fingerprint);
        Assert.Equal($"opsgenie:{AlertId}:Close:1502710256288000110", closed.DedupKey);
    }

    [Theory]
    [InlineData("Acknowledge")]
    [InlineData("AddNote")]
    [InlineData("Delete")]
    public void OtherActions_AreAccepted_AndIgnored(string action)
    {
        var accepted = Accept("opsgenie", Edit(Create, ("\"action\":\"Create\"", $"\"action\":\"{action}\"")));

        Assert.Empty(accepted.Alerts);
        Assert.Equal($"ignored action {action}", accepted.Note);
    }

    [Fact]
    public void WithoutAnAlias_TheFingerprintIsTheAlertId()
    {
        var alert = Webhook.Single("opsgenie", Edit(Create, ("\"alias\":\"alert-alias\",", ""))).Alert;

        Assert.Equal(AlertId, alert.Fingerprint);
    }

    [Fact]
    public void KeyValueTags_AndAPriorityName_AreLabels()
    {
        var alert = Webhook.Single("opsgenie", Edit(Create, ("\"vip\"", "\"vip\", \"env:prod\", \"team:db:primary\""), ("\"priority\":3", "\"priority\":\"P1\""))).Alert;

        Assert.Equal(("prod", "db:primary", "P1"), (alert.Labels["env"], alert.Labels["team"], alert.Severity));
    }

    [Theory]
    [InlineData("\"tags\":[\n         \"vip\"\n      ]", "\"tags\":\"vip\"", "alert.tags: expected an array, got a string")]
    [InlineData("\"message\":\"another alert\",", "", "alert.message: missing")]
    [InlineData("\"alertId\":\"ec03dad6-62c8-4c94-b38b-d88f398e900f\"", "\"alertId\":7", "alert.alertId: expected a string, got a number")]
    [InlineData("\"updatedAt\":1502709956288000110,", "", "alert.updatedAt: missing")]
    [InlineData("\"createdAt\":1502709956288", "\"createdAt\":\"yesterday\"", "alert.createdAt: expected an integer, got a string")]
    [InlineData("\"priority\":3", "\"priority\":9", "alert.priority: expected a priority such as \"P3\"")]
    [InlineData("\"action\":\"Create\"", "\"action\":1", "action: expected a string, got a number")]
    public void WrongShape_IsRejected_NamingTheField(string find, string replace, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("opsgenie", Edit(Create, (find, replace))));
    }
}
