namespace RunbookEngine.Alerts.Sources;

/// <summary>The alert sources the engine accepts webhooks from.</summary>
public static class AlertSources
{
    /// <summary>One of each source: alertmanager, grafana, pagerduty, datadog, opsgenie, azure-monitor, aws-sns and generic. Sources are stateless, so these are shared.</summary>
    public static IReadOnlyList<IAlertSource> All { get; } =
    [
        new AlertmanagerSource(),
        new GrafanaSource(),
        new PagerDutySource(),
        new DatadogSource(),
        new OpsgenieSource(),
        new AzureMonitorSource(),
        new AwsSnsSource(),
        new GenericSource(),
    ];

    /// <summary>The source as this host's settings shape it: Datadog with its field map, when one is set; otherwise itself.</summary>
    /// <param name="source">A built-in source.</param>
    /// <param name="options">The engine's settings.</param>
    /// <returns>The source to parse with.</returns>
    public static IAlertSource Configured(IAlertSource source, RunbookEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        return FieldMappedSource.For(source, options);
    }

    /// <summary>The source with this name, ignoring case (it usually comes from a URL path).</summary>
    /// <param name="name">The source name, e.g. <c>alertmanager</c>.</param>
    /// <returns>The source, or null when there is none by that name.</returns>
    public static IAlertSource? Find(string name) =>
        All.FirstOrDefault(source => string.Equals(source.Name, name, StringComparison.OrdinalIgnoreCase));
}
