using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunbookEngine.Notifications;

/// <summary>
/// Posts an Adaptive Card to a Microsoft Teams Workflows webhook URL ("When a Teams webhook request is received" then
/// "Post card in a chat or channel"), the successor of Office 365 connectors. Workflows answers 202 once it has the
/// request; the URL carries its own signature, so it is kept as secret as a token.
/// </summary>
internal sealed class TeamsChannel(IHttpClientFactory clients) : INotificationChannel
{
    /// <inheritdoc />
    public string Kind => "teams";

    /// <inheritdoc />
    public async Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken)
    {
        using var content = new StringContent(Card(message), Encoding.UTF8, "application/json");
        using var response = await clients.CreateClient(WebhookChannel.HttpClientName).PostAsync(new Uri(settings.Url!), content, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new NotificationDeliveryException($"the Teams workflow answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    /// <summary>The message as Workflows' webhook trigger expects it: one attachment holding the card.</summary>
    internal static string Card(NotificationMessage message)
    {
        var body = new JsonArray
        {
            new JsonObject { ["type"] = "TextBlock", ["text"] = message.Title, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true },
            new JsonObject { ["type"] = "TextBlock", ["text"] = message.Text, ["wrap"] = true },
        };
        var actions = new JsonArray();
        if (message.Link is { } link)
        {
            actions.Add(new JsonObject { ["type"] = "Action.OpenUrl", ["title"] = message.Run is null ? "Open runbook" : "Open run", ["url"] = link.ToString() });
        }

        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = body,
            ["actions"] = actions,
        };
        var payload = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = "application/vnd.microsoft.card.adaptive", ["contentUrl"] = null, ["content"] = card },
            },
        };
        return payload.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
    }
}
