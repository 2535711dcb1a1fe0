using System.Globalization;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>Prometheus Alertmanager's <c>webhook_config</c> (payload version "4"): one notification carries a group of alerts.</summary>
internal sealed class AlertmanagerSource : IAlertSource
{
    public string Name => "alertmanager";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => AlertmanagerPayload.Read(Name, "4", titleFallback: false, root, raw, receivedAt));
}

/// <summary>Grafana Alerting's webhook contact point (payload version "1"), Alertmanager's shape plus a title and a message.</summary>
internal sealed class GrafanaSource : IAlertSource
{
    public string Name => "grafana";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => AlertmanagerPayload.Read(Name, "1", titleFallback: true, root, raw, receivedAt));
}

/// <summary>The Alertmanager-shaped payload that Alertmanager and Grafana both send.</summary>
internal static class AlertmanagerPayload
{
    public static WebhookAccepted Read(string source, string version, bool titleFallback, Field root, string raw, DateTimeOffset receivedAt)
    {
        // A missing version is accepted (hand-written and older senders omit it); a different one is a shape we have not read.
        if (root.String("version") is { } sent && sent != version)
        {
            throw root.Get("version")!.Value.Error($"expected \"{version}\", got \"{sent}\"");
        }

        var groupStatus = root.Get("status") is { } status ? WebhookJson.ParseStatus(status) : (AlertStatus?)null;
        var title = titleFallback ? root.NonEmptyString("title") : null;
        var items = root.RequireArray("alerts");
        if (items.Count == 0)
        {
            throw new PayloadException("no alerts");
        }

        var groupKey = root.NonEmptyString("groupKey");
        var alerts = new List<ParsedAlert>(items.Count);
        foreach (var item in items)
        {
            alerts.Add(ReadAlert(source, item.ExpectObject(), groupStatus, title, raw, receivedAt) with { GroupKey = groupKey });
        }

        // Alertmanager's max_alerts drops the rest of the group and says how many; worth a line in the log, not a rejection.
        var truncated = root.Get("truncatedAlerts") is { Kind: System.Text.Json.JsonValueKind.Number } count && count.Element.TryGetInt64(out var n) && n > 0
            ? string.Create(CultureInfo.InvariantCulture, $"sender truncated {n} alert(s) (max_alerts)")
            : null;
        return new WebhookAccepted(alerts, truncated);
    }

    private static ParsedAlert ReadAlert(string source, Field alert, AlertStatus? groupStatus, string? title, string raw, DateTimeOffset receivedAt)
    {
        var labels = alert.StringMap("labels");
        var annotations = alert.StringMap("annotations");
        var status = alert.Get("status") is { } field
            ? WebhookJson.ParseStatus(field)
            : groupStatus ?? throw new PayloadException($"{alert.ChildPath("status")}: missing");
        var name = (labels.TryGetValue("alertname", out var alertname) && alertname.Length > 0 ? alertname : title)
            ?? throw new PayloadException($"{alert.ChildPath("labels")}.alertname: missing");

        // Go's zero time means "not set": the alert gets the arrival time, while the key keeps the value as sent so a resend still collapses.
        var sentStartsAt = alert.RequireTimestamp("startsAt");
        var startsAt = Rfc3339.IsGoZero(sentStartsAt) ? receivedAt : sentStartsAt;
        var endsAt = alert.Timestamp("endsAt") is { } end && !Rfc3339.IsGoZero(end) ? end : (DateTimeOffset?)null;
        var fingerprint = alert.NonEmptyString("fingerprint") ?? AlertFingerprint.OfLabels(labels);

        var runbookAlert = new RunbookAlert(
            source,
            name,
            status,
            labels.GetValueOrDefault("severity"),
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            startsAt,
            endsAt,
            fingerprint,
            DeliveryId: null,
            RawPayload: raw);
        return new ParsedAlert(runbookAlert, $"{source}:{fingerprint}:{WebhookJson.KeyTime(sentStartsAt)}:{WebhookJson.StatusText(status)}");
    }
}
