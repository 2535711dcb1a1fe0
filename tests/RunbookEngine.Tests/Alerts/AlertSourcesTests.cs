using RunbookEngine.Alerts.Sources;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class AlertSourcesTests
{
    [Fact]
    public void All_IsOneOfEachSource()
    {
        Assert.Equal(["alertmanager", "grafana", "pagerduty", "datadog", "opsgenie", "azure-monitor", "aws-sns", "generic"], AlertSources.All.Select(s => s.Name));
    }

    [Theory]
    [InlineData("alertmanager")]
    [InlineData("PagerDuty")]
    [InlineData("GENERIC")]
    public void Find_IgnoresCase(string name)
    {
        Assert.Equal(name.ToLowerInvariant(), AlertSources.Find(name)?.Name);
    }

    [Theory]
    [InlineData("")]
    [InlineData("prometheus")]
    [InlineData("github")]
    public void Find_OfAnUnknownName_IsNull(string name)
    {
        Assert.Null(AlertSources.Find(name));
    }

    [Theory]
    [InlineData("alertmanager", "alertmanager/live-firing-grouped.json")]
    [InlineData("grafana", "grafana/docs-firing-two-alerts.json")]
    [InlineData("pagerduty", "pagerduty/zulip-incident-triggered-v3.json")]
    [InlineData("datadog", "datadog/relay-default-payload-service-check-triggered.json")]
    [InlineData("opsgenie", "opsgenie/zulip-create.json")]
    [InlineData("azure-monitor", "azure-monitor/docs-test-metric-static-fired.json")]
    public void EverySource_StampsItsName_TheRawBody_AndAKeyWithItsPrefix(string source, string fixture)
    {
        var accepted = Accept(source, Fixture(fixture));

        Assert.NotEmpty(accepted.Alerts);
        Assert.All(accepted.Alerts, parsed =>
        {
            Assert.Equal(source, parsed.Alert.Source);
            Assert.Equal(FixtureText(fixture), parsed.Alert.RawPayload);
            Assert.StartsWith(source + ":", parsed.DedupKey, StringComparison.Ordinal);
        });
    }

    [Fact]
    public void OneSourceRejectsAnothersPayload_WithAReasonNotAnException()
    {
        Assert.Equal(new WebhookRejected(400, "alerts: missing"), Reject("alertmanager", Fixture("pagerduty/zulip-incident-triggered-v3.json")));
        Assert.Equal(new WebhookRejected(400, "event: missing"), Reject("pagerduty", Fixture("alertmanager/live-firing-single.json")));
        Assert.Equal(new WebhookRejected(400, "action: missing"), Reject("opsgenie", Fixture("datadog/relay-default-payload-service-check-triggered.json")));
        Assert.Equal(new WebhookRejected(400, "id: missing (looked for id, event_id, alert_id; map $ID or $ALERT_ID to one of them in the webhook's custom payload, or point RunbookEngine:Alerts:Sources:datadog:Fields:id at it)"), Reject("datadog", Fixture("opsgenie/zulip-create.json")));
        Assert.Equal(new WebhookRejected(400, "schemaId: missing"), Reject("azure-monitor", Fixture("alertmanager/live-firing-single.json")));
        Assert.Equal(new WebhookRejected(400, "alerts[0].name: missing"), Reject("generic", Fixture("alertmanager/live-firing-single.json")));
    }
}
