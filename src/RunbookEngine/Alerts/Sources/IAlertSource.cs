using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>One kind of alert webhook: turns a request into normalised alerts. Pure: no storage, no clock, no I/O.</summary>
public interface IAlertSource
{
    /// <summary>The source's name, as in <see cref="RunbookAlert.Source"/>: <c>alertmanager</c>, <c>grafana</c>, <c>pagerduty</c>, <c>datadog</c>, <c>opsgenie</c>, <c>azure-monitor</c>, <c>aws-sns</c>, <c>generic</c>, or <c>custom/NAME</c> for a source configured under <c>RunbookEngine:Alerts:Custom</c>.</summary>
    string Name { get; }

    /// <summary>Parses a request. Never throws on bad input: a request that cannot be used is a <see cref="WebhookRejected"/>.</summary>
    /// <param name="request">The request.</param>
    /// <param name="receivedAt">When it arrived; the fallback where the payload carries no usable time.</param>
    /// <returns>The alerts, or why the request was rejected.</returns>
    WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt);
}
