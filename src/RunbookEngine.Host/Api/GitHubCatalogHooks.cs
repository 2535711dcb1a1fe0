using Octokit.Webhooks;
using Octokit.Webhooks.Events;
using Octokit.Webhooks.Events.PullRequest;
using RunbookEngine.Catalog;
using RunbookEngine.GitHub;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary>
/// What a verified GitHub delivery means for the catalog. Octokit.Webhooks parses the body into its <see cref="PingEvent"/>,
/// <see cref="PushEvent"/> or <see cref="PullRequestEvent"/> and dispatches it here; this only decides the answer, which it
/// keeps, so there is one per request.
/// </summary>
internal sealed class GitHubCatalogHooks(string branch, GitHubOptions github, CatalogFollower follower, PullRequestChecks pullRequests, IVersionStore versions) : WebhookEventProcessor
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

    protected override async ValueTask ProcessPullRequestWebhookAsync(WebhookHeaders headers, PullRequestEvent pullRequestEvent, PullRequestAction action, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(headers);
        ArgumentNullException.ThrowIfNull(pullRequestEvent);
        Answer = await DecideAsync(headers.Delivery ?? "", pullRequestEvent, cancellationToken);
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

        if (await FirstDeliveryAsync(delivery, cancellationToken) is { } refused)
        {
            return refused;
        }

        follower.RequestSync();
        return Results.Accepted("/api/catalog", new { fetching = push.After });
    }

    private async Task<IResult> DecideAsync(string delivery, PullRequestEvent pull, CancellationToken cancellationToken)
    {
        // Only what changes the head commit needs a check; a label, an edit or a close does not.
        if (pull.Action is not ("opened" or "synchronize" or "reopened"))
        {
            return Results.Ok(new { ignored = $"pull request action '{pull.Action}'; checks are posted on opened, synchronize and reopened" });
        }

        if (pullRequests.Unavailable is { } why)
        {
            return Results.Ok(new { ignored = $"pull requests are not checked: {why}" });
        }

        var repository = pull.Repository?.FullName ?? "";
        if (!string.Equals(repository, github.Repository?.Trim(), StringComparison.OrdinalIgnoreCase))
        {
            return Results.Ok(new { ignored = $"a pull request in {repository}; following {github.Repository}" });
        }

        // A pull request into another branch never reaches what this host serves.
        if (pull.PullRequest.Base.Ref != branch)
        {
            return Results.Ok(new { ignored = $"a pull request into {pull.PullRequest.Base.Ref}; following {branch}" });
        }

        var number = (int)pull.Number;
        var head = pull.PullRequest.Head.Sha;
        if (await FirstDeliveryAsync(delivery, cancellationToken) is { } refused)
        {
            return refused;
        }

        try
        {
            // A head branch elsewhere (a fork, or one deleted since) is code from outside the repository.
            var fromFork = !string.Equals(pull.PullRequest.Head.Repo?.FullName, repository, StringComparison.OrdinalIgnoreCase);
            pullRequests.Request(number, head, fromFork);
        }
        catch (ArgumentException ex)
        {
            return Results.Json(new { error = $"not a pull request to check: {ex.Message}" }, statusCode: 400);
        }

        return Results.Accepted("/api/catalog", new { checking = head, pullRequest = number });
    }

    /// <summary>Null for a delivery no node has handled; otherwise the answer (already handled, or the store is away).</summary>
    private async Task<IResult?> FirstDeliveryAsync(string delivery, CancellationToken cancellationToken)
    {
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

        return null;
    }
}
