using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>PagerDuty Generic Webhooks V3: one event per request, <c>{"event":{id, event_type, occurred_at, data}}</c>.</summary>
internal sealed class PagerDutySource : IAlertSource
{
    public string Name => "pagerduty";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, Read);

    private WebhookAccepted Read(Field root, string raw)
    {
        var ev = root.RequireObject("event");
        var eventId = ev.RequireString("id");
        var eventType = ev.RequireString("event_type");
        AlertStatus? status = eventType switch
        {
            "incident.triggered" or "incident.reopened" => AlertStatus.Firing,
            "incident.resolved" => AlertStatus.Resolved,
            _ => null,
        };

        // Acknowledgements, priority changes and pings must still get a 2xx, or PagerDuty retries them and then disables the subscription.
        if (status is null)
        {
            return new WebhookAccepted([], $"ignored event type {eventType}");
        }

        var data = ev.RequireObject("data");
        var occurredAt = ev.RequireTimestamp("occurred_at");
        var createdAt = data.Timestamp("created_at");
        var incidentId = data.RequireString("id");
        var title = data.RequireString("title");
        var urgency = data.NonEmptyString("urgency");

        var labels = WebhookJson.NewMap();
        WebhookJson.Put(labels, "service", data.Object("service")?.NonEmptyString("summary"));
        WebhookJson.Put(labels, "urgency", urgency);
        WebhookJson.Put(labels, "priority", data.Object("priority")?.NonEmptyString("summary"));
        WebhookJson.Put(labels, "incident_key", data.NonEmptyString("incident_key"));
        WebhookJson.Put(labels, "incident_number", data.Scalar("number"));
        var annotations = WebhookJson.NewMap();
        WebhookJson.Put(annotations, "html_url", data.NonEmptyString("html_url"));

        // A reopen starts a new firing cycle, so it dates from the reopening rather than the incident's creation.
        var startsAt = eventType == "incident.reopened" ? occurredAt : createdAt ?? occurredAt;
        var endsAt = status == AlertStatus.Resolved ? occurredAt : (DateTimeOffset?)null;

        // event.id is inside the signed body and PagerDuty repeats it on every retry; the X-Webhook-Id header is not signed,
        // so keying on it would let a captured request be replayed, with a fresh header, as a new alert.
        var deliveryId = eventId;
        var alert = new RunbookAlert(
            Name,
            title,
            status.Value,
            urgency,
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            startsAt,
            endsAt,
            incidentId,
            deliveryId,
            raw);
        return new WebhookAccepted([new ParsedAlert(alert, $"pagerduty:{deliveryId}", incidentId)], null);
    }
}
