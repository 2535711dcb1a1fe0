using System.Text;
using System.Text.Json;
using StandardWebhooks;

namespace RunbookEngine.Notifications;

/// <summary>
/// Posts the event as JSON signed per the Standard Webhooks specification (<c>webhook-id</c>, <c>webhook-timestamp</c>,
/// <c>webhook-signature: v1,BASE64</c> over <c>id.timestamp.body</c>), so a receiver verifies it with any library that
/// implements the specification. The id is the delivery's, the same on every attempt, so a receiver drops a repeat.
/// </summary>
internal sealed class WebhookChannel(IHttpClientFactory clients, TimeProvider time) : INotificationChannel
{
    /// <summary>The named HTTP client outbound notifications use.</summary>
    public const string HttpClientName = "notifications";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <inheritdoc />
    public string Kind => "webhook";

    /// <inheritdoc />
    public async Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken)
    {
        var body = Body(message);
        var now = time.GetUtcNow();
        using var request = new HttpRequestMessage(HttpMethod.Post, settings.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("webhook-id", message.Delivery.Id);
        request.Headers.Add("webhook-timestamp", now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", Sign(settings.Secret!, message.Delivery.Id, now, body));
        using var response = await clients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new NotificationDeliveryException($"the webhook answered {(int)response.StatusCode} {response.ReasonPhrase}");
        }
    }

    /// <summary>The <c>webhook-signature</c> header's value for a message, by the StandardWebhooks library.</summary>
    /// <param name="secret">The <c>whsec_</c> secret.</param>
    /// <param name="id">The message id.</param>
    /// <param name="timestamp">The message's time (whole seconds are signed).</param>
    /// <param name="body">The exact body sent.</param>
    /// <returns><c>v1,BASE64</c>.</returns>
    public static string Sign(string secret, string id, DateTimeOffset timestamp, string body) =>
        new StandardWebhook(secret).Sign(id, timestamp, body);

    /// <summary>The body: the specification's suggested envelope, with the event's fields under <c>data</c>.</summary>
    internal static string Body(NotificationMessage message)
    {
        var delivery = message.Delivery;
        return JsonSerializer.Serialize(
            new
            {
                type = $"runbook.{delivery.Event}",
                timestamp = delivery.CreatedAt,
                data = new
                {
                    @event = delivery.Event,
                    runbook = delivery.Runbook,
                    runId = delivery.RunId,
                    status = message.Run?.Status.ToString(),
                    detail = delivery.Detail,
                    title = message.Title,
                    text = message.Text,
                    waitingStep = message.WaitingStep?.Sequence,
                    link = message.Link,
                },
            },
            Json);
    }
}
