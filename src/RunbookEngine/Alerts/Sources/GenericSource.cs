using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// The engine's own alert shape, for senders with no integration of their own (scripts, CI, other monitoring).
/// POST <c>Content-Type: application/json</c> with either one alert object or <c>{"alerts": [ ... ]}</c>. Each alert:
/// <list type="bullet">
/// <item><c>name</c> (string, required): the alert's name.</item>
/// <item><c>status</c>: <c>"firing"</c> (default) or <c>"resolved"</c>.</item>
/// <item><c>severity</c> (string): defaults to <c>labels.severity</c>.</item>
/// <item><c>labels</c>, <c>annotations</c>: objects whose values are all strings.</item>
/// <item><c>fingerprint</c> (string): what makes two notifications the same alert; defaults to the first 16 hex digits of
/// SHA-256 over the name and the labels sorted by name.</item>
/// <item><c>startsAt</c>, <c>endsAt</c>: RFC 3339 timestamps; <c>startsAt</c> defaults to the arrival time.</item>
/// </list>
/// A resend is recognised by fingerprint, <c>startsAt</c> and status together, so a sender that retries should send <c>startsAt</c>:
/// without it every delivery is dated on arrival and counts as new.
/// </summary>
/// <example><code>{"name": "BackupFailed", "severity": "critical", "labels": {"host": "db-1"}, "startsAt": "2026-11-22T10:00:00Z"}</code></example>
internal sealed class GenericSource : IAlertSource
{
    public string Name => "generic";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => Read(root, raw, receivedAt));

    private WebhookAccepted Read(Field root, string raw, DateTimeOffset receivedAt)
    {
        IReadOnlyList<Field> items = root.Get("alerts") is not null ? root.RequireArray("alerts") : [root];
        if (items.Count == 0)
        {
            throw new PayloadException("no alerts");
        }

        return new WebhookAccepted(items.Select(item => ReadAlert(item.ExpectObject(), raw, receivedAt)).ToList(), null);
    }

    private ParsedAlert ReadAlert(Field item, string raw, DateTimeOffset receivedAt)
    {
        var name = item.RequireString("name");
        if (name.Length == 0)
        {
            throw item.Require("name").Error("empty");
        }

        var status = item.Get("status") is { } field ? WebhookJson.ParseStatus(field) : AlertStatus.Firing;
        var labels = item.StringMap("labels");
        var annotations = item.StringMap("annotations");
        var fingerprint = item.NonEmptyString("fingerprint") ?? AlertFingerprint.OfNameAndLabels(name, labels);
        var startsAt = item.Timestamp("startsAt") ?? receivedAt;
        var alert = new RunbookAlert(
            Name,
            name,
            status,
            item.NonEmptyString("severity") ?? labels.GetValueOrDefault("severity"),
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            startsAt,
            item.Timestamp("endsAt"),
            fingerprint,
            DeliveryId: null,
            RawPayload: raw);
        return new ParsedAlert(alert, $"generic:{fingerprint}:{WebhookJson.KeyTime(startsAt)}:{WebhookJson.StatusText(status)}");
    }
}
