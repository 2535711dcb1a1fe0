using System.Globalization;
using System.Text.Json;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>Opsgenie's outgoing Webhook integration: one callback per alert action; <c>Create</c> fires and <c>Close</c> resolves.</summary>
internal sealed class OpsgenieSource : IAlertSource
{
    public string Name => "opsgenie";

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => Read(root, raw, receivedAt));

    private WebhookAccepted Read(Field root, string raw, DateTimeOffset receivedAt)
    {
        var action = root.RequireString("action");
        AlertStatus? status = action switch
        {
            "Create" => AlertStatus.Firing,
            "Close" => AlertStatus.Resolved,
            _ => null,
        };
        if (status is null)
        {
            return new WebhookAccepted([], $"ignored action {action}");
        }

        var alert = root.RequireObject("alert");
        var alertId = alert.RequireString("alertId");
        var message = alert.RequireString("message");

        // updatedAt is in nanoseconds, past what a double holds exactly, so the key uses the digits as sent.
        var updatedAtField = alert.Require("updatedAt");
        var updatedAt = alert.Int64("updatedAt")!.Value;
        var createdAt = alert.Int64("createdAt") is { } ms ? FromUnixMilliseconds(alert, ms) : receivedAt;
        var priority = Priority(alert.Get("priority"));

        var labels = WebhookJson.NewMap();
        if (alert.Get("tags") is { } tags)
        {
            if (tags.Kind != JsonValueKind.Array)
            {
                throw tags.Error($"expected an array, got {Field.KindName(tags.Kind)}");
            }

            foreach (var tag in tags.Items())
            {
                WebhookJson.AddTag(labels, tag.AsString().Trim());
            }
        }

        WebhookJson.Put(labels, "entity", alert.NonEmptyString("entity"));
        WebhookJson.Put(labels, "source", alert.NonEmptyString("source"));
        WebhookJson.Put(labels, "priority", priority);
        var annotations = WebhookJson.NewMap();
        WebhookJson.Put(annotations, "tinyId", alert.Scalar("tinyId"));
        WebhookJson.Put(annotations, "description", alert.NonEmptyString("description"));
        WebhookJson.Put(annotations, "username", alert.NonEmptyString("username"));

        var endsAt = status == AlertStatus.Resolved ? DateTimeOffset.UnixEpoch.AddTicks(updatedAt / 100) : (DateTimeOffset?)null;
        var runbookAlert = new RunbookAlert(
            Name,
            message,
            status.Value,
            priority,
            WebhookJson.Freeze(labels),
            WebhookJson.Freeze(annotations),
            createdAt,
            endsAt,
            alert.NonEmptyString("alias") ?? alertId,
            DeliveryId: null,
            RawPayload: raw);
        return new WebhookAccepted([new ParsedAlert(runbookAlert, $"opsgenie:{alertId}:{action}:{updatedAtField.Element.GetRawText()}")], null);
    }

    /// <summary>Opsgenie priorities are P1–P5; older payloads send the bare number, which is written the same way here.</summary>
    private static string? Priority(Field? field) => field?.Kind switch
    {
        null => null,
        JsonValueKind.String => field.Value.AsString() is { Length: > 0 } text ? text : null,
        JsonValueKind.Number when field.Value.Element.TryGetInt32(out var number) && number is >= 1 and <= 5 => string.Create(CultureInfo.InvariantCulture, $"P{number}"),
        _ => throw field.Value.Error("expected a priority such as \"P3\""),
    };

    private static DateTimeOffset FromUnixMilliseconds(Field alert, long milliseconds) =>
        milliseconds >= 0 && milliseconds <= DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
            ? DateTimeOffset.FromUnixTimeMilliseconds(milliseconds)
            : throw new PayloadException($"{alert.ChildPath("createdAt")}: out of range");
}
