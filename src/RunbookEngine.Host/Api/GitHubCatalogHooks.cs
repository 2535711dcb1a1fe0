using Octokit.Webhooks;
using Octokit.Webhooks.Events;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary>
/// What a verified GitHub delivery means for the catalog. Octokit.Webhooks parses the body into its <see cref="PingEvent"/> or
/// <see cref="PushEvent"/> and dispatches it here; this only decides the answer, which it keeps, so there is one per request.
/// </summary>
internal sealed class GitHubCatalogHooks(string branch, CatalogFollower follower, IVersionStore versions) : WebhookEventProcessor
{
    /// <summary>The answer to send; null when the body held no event the library could dispatch (a JSON <c>null</c>).</summary>
    public IResult? Answer { get; private set; }

    protected override ValueTask ProcessPingWebhookAsync(WebhookHeaders headers, PingEvent pingEvent, CancellationToken cancellationToken = default)
    {
        Answer = Results.Ok(new { pong = true });
        return ValueTask.CompletedTask;
    }

    protected override async ValueTask ProcessPushWebhookAsync(WebhookHeaders headers, PushEvent pushEvent, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(pushEvent);
        Answer = await DecideAsync(headers.Delivery ?? "", pushEvent, cancellationToken);
    }

    private async Task<IResult> DecideAsync(string delivery, PushEvent push, CancellationToken cancellationToken)
    {
        // A tag push (refs/tags/...) is "another ref" too.
        if (push.Ref != $"refs/heads/{branch}")
        {
            return Results.Ok(new { ignored = $"a push to {push.Ref}; following refs/heads/{branch}" });
        }

        if (push.Deleted)
        {
            return Results.Ok(new { ignored = "the branch was deleted" });
        }

        // Remembered in the store, not in this node's memory: a replay sent to another node, or after a restart, is known too.
        try
        {
            if (delivery.Length > 0 && !await versions.RememberGitHubDeliveryAsync(delivery, cancellationToken))
            {
                return Results.Ok(new { ignored = $"delivery {delivery} was already handled" });
            }
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or TimeoutException or IOException || ex.InnerException is System.Data.Common.DbException or TimeoutException or IOException)
        {
            return Results.Json(new { error = "the store is unavailable, so the delivery cannot be checked; redeliver it later" }, statusCode: 503);
        }

        follower.RequestSync();
        return Results.Accepted("/api/catalog", new { fetching = push.After });
    }
}
