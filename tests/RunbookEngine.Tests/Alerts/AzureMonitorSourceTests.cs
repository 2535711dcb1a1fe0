using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

public sealed class AzureMonitorSourceTests
{
    private const string MetricFired = "azure-monitor/docs-test-metric-static-fired.json";
    private const string MetricResolved = "azure-monitor/docs-metric-resolved.json";
    private const string LogSearchV2 = "azure-monitor/docs-test-log-search-v2-fired.json";
    private const string LogSearchV1 = "azure-monitor/docs-test-log-search-v1-numresults-fired.json";
    private const string ActivityLog = "azure-monitor/docs-test-activity-log-administrative-fired.json";

    private const string StorageAccount = "/subscriptions/11111111-1111-1111-1111-111111111111/resourcegroups/test-RG/providers/Microsoft.Storage/storageAccounts/test-storageAccount";

    [Fact]
    public void MetricAlert_Fired_IsOneFiringAlert_WithTheEssentialsAsLabels()
    {
        var parsed = Webhook.Single("azure-monitor", Fixture(MetricFired));

        var alert = parsed.Alert;
        Assert.Equal(("azure-monitor", "test-metricAlertRule", AlertStatus.Firing, "informational"), (alert.Source, alert.Name, alert.Status, alert.Severity));
        const string AlertId = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.AlertsManagement/alerts/12345678-1234-1234-1234-1234567890ab";
        Assert.Equal(AlertId, alert.Fingerprint);
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["severity"] = "informational",
                ["azure_severity"] = "Sev3",
                ["monitoring_service"] = "Platform",
                ["signal_type"] = "Metric",
                ["alert_context_version"] = "1.0",
                ["target"] = StorageAccount,
                ["subscription"] = "11111111-1111-1111-1111-111111111111",
                ["resource_group"] = "test-RG",
                ["resource"] = "test-storageAccount",
                ["configuration_items"] = "test-storageAccount",
                ["metric_name"] = "Transactions",
                ["metric_namespace"] = "Microsoft.Storage/storageAccounts",
                ["customKey1"] = "value1",
                ["customKey2"] = "value2",
            },
            alert.Labels);
        Assert.Equal("Alert rule description", alert.Annotation("description"));
        Assert.Equal(Time("2021-11-15T09:35:24.3468506Z"), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Null(alert.DeliveryId);
        Assert.Equal($"azure-monitor:{AlertId}:2021-11-15T09:35:24.3468506Z:firing", parsed.DedupKey);
    }

    [Fact]
    public void MetricAlert_Resolved_EndsAtResolvedDateTime_WithTheDimensionsAsLabels()
    {
        var alert = Webhook.Single("azure-monitor", Fixture(MetricResolved)).Alert;

        Assert.Equal(("WCUS-R2-Gen2", AlertStatus.Resolved), (alert.Name, alert.Status));
        Assert.Equal(Time("2019-03-22T13:58:24.3713213Z"), alert.StartsAt);
        Assert.Equal(Time("2019-03-22T14:03:16.2246313Z"), alert.EndsAt);
        Assert.Equal("/subscriptions/<subscription ID>/providers/Microsoft.AlertsManagement/alerts/b9569717-bc32-442f-add5-83a997729330", alert.Fingerprint);
        Assert.Equal("3efad9dc-3d50-4eac-9c87-8b3fd6f97e4e", alert.Label("ResourceId"));
        Assert.Equal(("Percentage CPU", "wcus-r2-gen2", "pipelinealertrg"), (alert.Label("metric_name"), alert.Label("resource"), alert.Label("resource_group")));
        Assert.Null(alert.Annotation("description"));
    }

    [Fact]
    public void FiredAndResolved_OfOneAlert_ShareTheFingerprint_ButNotTheKey()
    {
        var resolvedBody = Edit(
            MetricFired,
            ("\"monitorCondition\":\"Fired\"", "\"monitorCondition\":\"Resolved\""),
            ("\"firedDateTime\":\"2021-11-15T09:35:24.3468506Z\",", "\"firedDateTime\":\"2021-11-15T09:35:24.3468506Z\",\n         \"resolvedDateTime\":\"2021-11-15T09:50:24.1Z\","));

        var fired = Webhook.Single("azure-monitor", Fixture(MetricFired));
        var resolved = Webhook.Single("azure-monitor", resolvedBody);

        Assert.Equal(AlertStatus.Resolved, resolved.Alert.Status);
        Assert.Equal(fired.Alert.Fingerprint, resolved.Alert.Fingerprint);
        Assert.Equal(fired.Alert.StartsAt, resolved.Alert.StartsAt);
        Assert.Equal(Time("2021-11-15T09:50:24.1Z"), resolved.Alert.EndsAt);
        Assert.NotEqual(fired.DedupKey, resolved.DedupKey);
        Assert.Equal(fired.DedupKey, Webhook.Single("azure-monitor", Fixture(MetricFired)).DedupKey);
    }

    [Fact]
    public void LogSearchAlert_ReadsTheQuery_TheLink_AndTheDimensions()
    {
        var alert = Webhook.Single("azure-monitor", Fixture(LogSearchV2)).Alert;

        Assert.Equal(("test-logAlertRule-v2", AlertStatus.Firing), (alert.Name, alert.Status));
        Assert.Equal(("Log", "Log Alerts V2", "test-computer"), (alert.Label("signal_type"), alert.Label("monitoring_service"), alert.Label("Computer")));
        Assert.Equal(("test-logAnalyticsWorkspace", "test-RG"), (alert.Label("resource"), alert.Label("resource_group")));
        Assert.Equal("Heartbeat", alert.Annotation("search_query"));
        Assert.StartsWith("https://portal.azure.com#@aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa/blade/Microsoft_Azure_Monitoring_Logs/LogsBlade/", alert.Annotation("link"), StringComparison.Ordinal);
        Assert.Contains("aBcDeFgHiJkLmN%2Fl35oOTZoKioEOou", alert.Annotation("link"), StringComparison.Ordinal);
        Assert.Null(alert.Label("metric_name"));
        Assert.Equal("value1", alert.Label("customKey1"));
    }

    [Fact]
    public void OlderLogSearchAlert_ReadsSearchQuery_AndLinkToSearchResults()
    {
        var alert = Webhook.Single("azure-monitor", Fixture(LogSearchV1)).Alert;

        Assert.Equal(("test-logAlertRule-v1-numResults", "Log Analytics", "1.1"), (alert.Name, alert.Label("monitoring_service"), alert.Label("alert_context_version")));
        Assert.Equal("Heartbeat", alert.Annotation("search_query"));
        Assert.EndsWith("/q/aBcDeFgHi%2ABCDE%3D%3D/prettify/1/timespan/2021-11-15T15%3a15%3a24.0000000Z%2f2021-11-16T15%3a15%3a24.0000000Z", alert.Annotation("link"), StringComparison.Ordinal);
        Assert.Equal(("Number of results", "test-computer"), (alert.Label("alert_type"), alert.Label("configuration_items")));
    }

    [Fact]
    public void ActivityLogAlert_ReadsTheOperation_AndItsProperties()
    {
        var alert = Webhook.Single("azure-monitor", Fixture(ActivityLog)).Alert;

        Assert.Equal(("test-activityLogAlertRule", AlertStatus.Firing, "verbose", "Sev4"), (alert.Name, alert.Status, alert.Severity, alert.Label("azure_severity")));
        Assert.Equal("Microsoft.Compute/virtualMachines/restart/action", alert.Label("operation_name"));
        Assert.Equal(("Succeeded", "user-email@domain.com"), (alert.Label("operation_status"), alert.Label("caller")));
        Assert.Equal(("Administrative", "Informational"), (alert.Label("event_source"), alert.Label("level")));
        Assert.Equal(("test-VM", "test-RG"), (alert.Label("resource"), alert.Label("resource_group")));
        Assert.Equal("Administrative", alert.Annotation("property.eventCategory"));
        Assert.Equal("Microsoft.Compute/virtualMachines/restart/action", alert.Annotation("property.message"));
        Assert.Equal(Time("2021-11-16T08:29:01.2932462Z"), alert.StartsAt);
    }

    [Fact]
    public void OtherKinds_AreAccepted_WithTheEssentialsOnly()
    {
        const string SmartDetector = """
            {"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {"alertId": "/subscriptions/1/providers/Microsoft.AlertsManagement/alerts/2",
             "alertRule": "Dependency Latency Degradation", "severity": "Sev2", "signalType": "Log", "monitorCondition": "Fired",
             "monitoringService": "SmartDetector", "alertTargetIDs": null, "firedDateTime": "2021-10-28T19:09:09.1115084Z"},
             "alertContext": {"DetectionSummary": "A degradation", "DetectedValue": "0.45 sec"}}}
            """;

        var alert = Assert.Single(Accept("azure-monitor", SmartDetector).Alerts).Alert;

        Assert.Equal(("Dependency Latency Degradation", "warning", "SmartDetector"), (alert.Name, alert.Severity, alert.Label("monitoring_service")));
        Assert.Null(alert.Label("target"));
    }

    [Fact]
    public void SeveralTargets_AreNumbered()
    {
        var body = Edit(MetricFired, ($"\"{StorageAccount}\"", $"\"{StorageAccount}\", \"/subscriptions/2/resourceGroups/other\""));

        var labels = Webhook.Single("azure-monitor", body).Alert.Labels;

        Assert.Equal((StorageAccount, StorageAccount, "/subscriptions/2/resourceGroups/other"), (labels["target"], labels["target_0"], labels["target_1"]));
        Assert.Equal("test-storageAccount", labels["resource"]);
    }

    [Theory]
    [InlineData("Sev0", "critical")]
    [InlineData("Sev1", "error")]
    [InlineData("Sev2", "warning")]
    [InlineData("Sev4", "verbose")]
    [InlineData("Sev9", "Sev9")]
    public void Severity_IsAzuresNameForIt(string sent, string severity)
    {
        var alert = Webhook.Single("azure-monitor", Edit(MetricFired, ("\"severity\":\"Sev3\"", $"\"severity\":\"{sent}\""))).Alert;

        Assert.Equal((severity, severity, sent), (alert.Severity, alert.Label("severity"), alert.Label("azure_severity")));
    }

    [Theory]
    [InlineData("\"schemaId\":\"azureMonitorCommonAlertSchema\",", "", "schemaId: missing")]
    [InlineData("\"schemaId\":\"azureMonitorCommonAlertSchema\"", "\"schemaId\":\"Microsoft.Insights/activityLogs\"", "schemaId: expected \"azureMonitorCommonAlertSchema\", got \"Microsoft.Insights/activityLogs\" (turn on the common alert schema in the action group)")]
    [InlineData("\"essentials\":{", "\"essentialz\":{", "data.essentials: missing")]
    [InlineData("\"alertRule\":\"test-metricAlertRule\",", "", "data.essentials.alertRule: missing")]
    [InlineData("\"alertRule\":\"test-metricAlertRule\"", "\"alertRule\":null", "data.essentials.alertRule: missing")]
    [InlineData("\"monitorCondition\":\"Fired\",", "", "data.essentials.monitorCondition: missing")]
    [InlineData("\"monitorCondition\":\"Fired\"", "\"monitorCondition\":\"Acknowledged\"", "data.essentials.monitorCondition: expected \"Fired\" or \"Resolved\", got \"Acknowledged\"")]
    [InlineData("\"monitorCondition\":\"Fired\"", "\"monitorCondition\":\"fired\"", "data.essentials.monitorCondition: expected \"Fired\" or \"Resolved\", got \"fired\"")]
    [InlineData("\"alertId\":\"/subscriptions/11111111-1111-1111-1111-111111111111/providers/Microsoft.AlertsManagement/alerts/12345678-1234-1234-1234-1234567890ab\",", "", "data.essentials.alertId: missing")]
    [InlineData("\"signalType\":\"Metric\"", "\"signalType\":7", "data.essentials.signalType: expected a string, got a number")]
    public void BadEssentials_AreRejected_NamingTheField(string find, string replace, string reason)
    {
        Assert.Equal(new WebhookRejected(400, reason), Reject("azure-monitor", Edit(MetricFired, (find, replace))));
    }

    [Fact]
    public void NotJson_IsRejected()
    {
        Assert.Equal(400, Reject("azure-monitor", "schemaId=azureMonitorCommonAlertSchema").StatusCode);
        Assert.Equal(415, Reject("azure-monitor", Request(Fixture(MetricFired), "text/plain")).StatusCode);
    }

    [Fact]
    public void ABudgetAlert_WithNoRule_IsRejected()
    {
        // Cost alerts share the schema id but send no rule or condition; there is nothing to match a runbook on.
        const string Budget = """
            {"schemaId": "azureMonitorCommonAlertSchema", "data": {"essentials": {"monitoringService": "CostAlerts", "alertRule": null, "monitorCondition": null}}}
            """;

        Assert.Equal(new WebhookRejected(400, "data.essentials.alertRule: missing"), Reject("azure-monitor", Budget));
    }
}
