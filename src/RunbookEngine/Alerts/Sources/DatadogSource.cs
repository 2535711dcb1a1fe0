using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// Datadog's Webhooks integration: the default payload (<c>id, title, body, date, event_type, last_updated, org</c>) plus the
/// custom-payload fields people commonly add (<c>alert_transition, alert_id, alert_cycle_key, aggreg_key, alert_priority, tags, alert_title, link</c>).
/// Teams writing their own template often name the event <c>event_id</c> and the tags <c>event_tags</c>, and some send only the
/// monitor's <c>alert_id</c>; those are read too.
/// <c>date</c> and <c>last_updated</c> may be epoch seconds or milliseconds, as numbers or numeric strings, or RFC 3339 strings;
/// anything else (such as an unsubstituted <c>$DATE</c>) falls back to the arrival time, because Datadog leaves unknown template
/// variables in place and the alert is still worth having.
/// </summary>
internal sealed partial class DatadogSource : IAlertSource
{
    // Epoch seconds reach 1e11 only in the year 5138, and epoch milliseconds passed 1e11 in 1973, so the magnitude tells them apart.
    private const long MillisecondsThreshold = 100_000_000_000;

    public string Name => "datadog";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => Read(root, raw, receivedAt));

    private WebhookAccepted Read(Field root, string raw, DateTimeOffset receivedAt)
    {
        // An event id (the default $ID, or a custom event_id) names one notification; alert_id names the monitor, so it
        // identifies the alert but not the notification, and the dedup key then has to add the transition and date.
        var eventId = root.Scalar("id") ?? root.Scalar("event_id");
        var alertId = root.Scalar("alert_id");
        var id = eventId ?? alertId ?? throw new PayloadException("id: missing (looked for id, event_id, alert_id; map $ID or $ALERT_ID to one of them in the webhook's custom payload, or point RunbookEngine:Alerts:Sources:datadog:Fields:id at it)");
        var title = root.String("title");
        var prefix = title is null ? Match.Empty : TitlePrefix().Match(title);
        var strippedTitle = title?[prefix.Length..];

        // The default body has no state field: the "[Recovered]" title prefix is its only resolve signal, so alert_transition wins when present.
        AlertStatus status;
        var transition = root.NonEmptyString("alert_transition");
        if (transition is not null)
        {
            status = Transition(transition) ?? throw root.Get("alert_transition")!.Value.Error($"unknown transition \"{transition}\"");
        }
        else
        {
            status = prefix.Success && Transition(prefix.Groups["transition"].Value) is { } fromTitle ? fromTitle : AlertStatus.Firing;
        }

        var name = root.NonEmptyString("alert_title")
            ?? (strippedTitle is { Length: > 0 } ? strippedTitle : title is { Length: > 0 } ? title : null)
            ?? throw new PayloadException("title: missing (looked for alert_title, title; map $EVENT_TITLE to title in the webhook's custom payload, or point RunbookEngine:Alerts:Sources:datadog:Fields:title at it)");

        // Without a cycle key, aggregation key or monitor id, the event id would be the fingerprint, and it differs between a
        // Triggered and its Recovered, so the recovery could never close the alert. The monitor's name with the group from the
        // title ("[Recovered on {host:i-3b93aafb}]") is what the two share, so it stands in whenever there is a transition to pair.
        var scope = prefix.Groups["scope"];
        var pairable = prefix.Success || transition is not null;
        var fingerprint = root.Scalar("alert_cycle_key") ?? root.Scalar("aggreg_key") ?? alertId
            ?? (pairable ? (scope.Success ? $"{name} on {scope.Value}" : name) : id);
        var priority = root.Scalar("alert_priority") ?? root.Scalar("priority");

        var labels = Tags(root.Get("tags"), root.Get("event_tags"));
        WebhookJson.Put(labels, "event_type", root.NonEmptyString("event_type"));
        WebhookJson.Put(labels, "alert_id", alertId);
        WebhookJson.Put(labels, "alert_transition", transition);
        WebhookJson.Put(labels, "priority", priority);
        var annotations = WebhookJson.NewMap();
        WebhookJson.Put(annotations, "title", title);
        WebhookJson.Put(annotations, "body", root.NonEmptyString("body"));
        WebhookJson.Put(annotations, "link", root.NonEmptyString("link"));
        WebhookJson.Put(annotations, "org", root.Object("org")?.Scalar("name"));

        var date = Time(root, "date");
        var lastUpdated = Time(root, "last_updated");
        var startsAt = date ?? receivedAt;
        var endsAt = status == AlertStatus.Resolved ? lastUpdated ?? date ?? receivedAt : (DateTimeOffset?)null;

        var dedupKey = eventId is not null
            ? $"datadog:{eventId}"
            : $"datadog:{alertId}:{transition ?? WebhookJson.StatusText(status)}:{root.Scalar("date") ?? root.Scalar("last_updated") ?? WebhookJson.KeyTime(startsAt)}";
        var alert = new RunbookAlert(
            Name,
            name,
            status,
            priority,
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            startsAt,
            endsAt,
            fingerprint,
            eventId,
            raw);
        return new WebhookAccepted([new ParsedAlert(alert, dedupKey)], null);
    }

    private static AlertStatus? Transition(string transition) => transition switch
    {
        "Triggered" or "Re-Triggered" or "Warn" or "Re-Warn" or "No Data" or "Re-No Data" or "Renotify" => AlertStatus.Firing,
        "Recovered" => AlertStatus.Resolved,
        _ => null,
    };

    /// <summary>
    /// <c>$TAGS</c> renders as <c>"env:prod,service:web"</c>; a hand-written payload may use an array. A bare tag becomes a label with an empty value.
    /// Both <c>tags</c> and <c>event_tags</c> are read, so a template that sends both loses neither.
    /// </summary>
    private static Dictionary<string, string> Tags(params Field?[] fields)
    {
        var labels = WebhookJson.NewMap();
        foreach (var field in fields)
        {
            if (field is not { } tags)
            {
                continue;
            }

            IEnumerable<string> items = tags.Kind switch
            {
                JsonValueKind.String => tags.AsString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                JsonValueKind.Array => tags.Items().Select(item => item.AsString().Trim()),
                _ => throw tags.Error($"expected a string or an array, got {Field.KindName(tags.Kind)}"),
            };
            foreach (var tag in items)
            {
                WebhookJson.AddTag(labels, tag);
            }
        }

        return labels;
    }

    private static DateTimeOffset? Time(Field root, string name)
    {
        if (root.Get(name) is not { } field)
        {
            return null;
        }

        return field.Kind switch
        {
            JsonValueKind.Number when field.Element.TryGetInt64(out var whole) => FromEpoch(whole),
            JsonValueKind.Number when field.Element.TryGetDouble(out var fractional) && Math.Abs(fractional) < long.MaxValue => FromEpoch((long)fractional),
            JsonValueKind.Number => throw field.Error("not a timestamp"),
            JsonValueKind.String => FromText(field.AsString()),
            _ => throw field.Error($"expected a timestamp number or string, got {Field.KindName(field.Kind)}"),
        };

        static DateTimeOffset? FromText(string text) =>
            long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) ? FromEpoch(number)
            : Rfc3339.TryParse(text, out var value) ? value
            : null;
    }

    private static DateTimeOffset? FromEpoch(long number)
    {
        if (number <= 0)
        {
            return null;
        }

        var milliseconds = number >= MillisecondsThreshold ? number : number * 1000;
        return milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds() ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds) : null;
    }

    // "[P1] [Triggered on {host:web-1}] Disk full": an optional priority, then the transition with an optional scope.
    [GeneratedRegex(@"\A(?:\[P[0-9]\]\s*)?\[(?<transition>Triggered|Re-Triggered|Recovered|Warn|Re-Warn|No Data|Re-No Data|Renotify)(?: on (?<scope>[^\]]*))?\]\s*", RegexOptions.CultureInvariant)]
    private static partial Regex TitlePrefix();
}
