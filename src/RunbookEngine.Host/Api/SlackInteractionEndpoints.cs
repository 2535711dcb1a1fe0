using RunbookEngine.Notifications;

namespace RunbookEngine.Host.Api;

/// <summary><c>POST /hooks/slack/interactions</c>: the Approve and Reject buttons of Slack messages; documented in docs/api.md.</summary>
internal static class SlackInteractionEndpoints
{
    // An interaction carries the whole message it came from; Slack's messages are far below this.
    private const long MaxBodyBytes = 1024 * 1024;

    public static void MapSlackInteractions(this IEndpointRouteBuilder app) =>
        app.MapPost("/hooks/slack/interactions", ReceiveAsync).DisableAntiforgery();

    private static async Task<IResult> ReceiveAsync(HttpContext http, SlackInteractions interactions, CancellationToken cancellationToken)
    {
        // The signature is over the raw bytes, so the form is read by hand, never through ASP.NET Core's form binding.
        var (body, tooLarge) = await WebhookEndpoints.ReadLimitedAsync(http.Request, MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return tooLarge!;
        }

        var answer = await interactions.HandleAsync(
            body, http.Request.Headers["X-Slack-Request-Timestamp"].ToString(), http.Request.Headers["X-Slack-Signature"].ToString(), cancellationToken);
        return Results.Json(answer.Body, statusCode: answer.Status);
    }
}
