using System.Text;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary>Runbook versions, catalog sync, and the GitHub push webhook; documented in docs/api.md.</summary>
internal static class CatalogApi
{
    private static readonly System.Buffers.SearchValues<char> HexDigits = System.Buffers.SearchValues.Create("0123456789abcdefABCDEF");

    public static void MapCatalogApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/runbooks/{name}/versions", VersionsAsync);
        api.MapGet("/runbooks/{name}/versions/{hash}/source", SourceAsync);
        api.MapGet("/catalog", (RunbookCatalog catalog) => TypedResults.Ok(Describe(catalog)));
        api.MapPost("/catalog/sync", async (CatalogFollower follower, RunbookCatalog catalog, CancellationToken cancellationToken) =>
        {
            var change = await follower.SyncNowAsync(cancellationToken);
            return change.Error is null
                ? Results.Ok(new { change.Commit, change.Added, change.Updated, change.Removed, change.Failed })
                : Results.Json(new { error = change.Error, commit = catalog.Revision?.Commit }, statusCode: StatusCodes.Status502BadGateway);
        });
        // Under the API group, but signed by GitHub rather than called by a person.
        app.MapPost("/hooks/github", GitHubAsync).DisableAntiforgery().AllowAnonymous();
    }

    private static object Describe(RunbookCatalog catalog) => new
    {
        source = catalog.SourceKind,
        location = catalog.SourceDescription,
        commit = catalog.Revision?.Commit,
        author = catalog.Revision?.Author,
        committedAt = catalog.Revision?.CommittedAt,
        message = catalog.Revision?.Message,
        lastSyncAt = catalog.LastSync.At,
        lastSyncError = catalog.LastSync.Error,
        runbooks = catalog.Entries.Count,
        failing = catalog.Entries.Where(e => e.Problem is not null || !e.IsValid).Select(e => e.Name),
    };

    private static async Task<IResult> VersionsAsync(string name, IVersionStore versions, RunbookCatalog catalog, CancellationToken cancellationToken)
    {
        var list = await versions.ListVersionsAsync(name, cancellationToken);
        if (list.Count == 0 && catalog.Find(name) is null)
        {
            return TypedResults.NotFound(new ApiError($"no runbook '{name}'"));
        }

        var serving = catalog.Find(name)?.ContentHash;
        return TypedResults.Ok(list.Select(v => new
        {
            version = v.ContentHash,
            v.Commit,
            v.Author,
            v.CommittedAt,
            v.Message,
            v.Valid,
            v.Errors,
            v.FirstSeenAt,
            serving = v.ContentHash == serving,
            source = $"/api/runbooks/{name}/versions/{v.ContentHash}/source",
        }));
    }

    /// <summary>The exact source of a version: the runbook as text, or every file of its closure with <c>?format=json</c>.</summary>
    private static async Task<IResult> SourceAsync(string name, string hash, string? format, IVersionStore versions, CancellationToken cancellationToken)
    {
        if (await versions.GetVersionAsync(name, hash, cancellationToken) is not { } version)
        {
            return TypedResults.NotFound(new ApiError($"no version '{hash}' of runbook '{name}'"));
        }

        if (format == "json")
        {
            return TypedResults.Ok(new { version = version.ContentHash, version.Commit, files = version.Files });
        }

        var text = new StringBuilder();
        foreach (var file in version.Files)
        {
            if (version.Files.Count > 1)
            {
                text.Append("// ===== ").Append(file.Path).Append(" =====\n");
            }

            text.Append(file.Text);
            if (!file.Text.EndsWith('\n'))
            {
                text.Append('\n');
            }
        }

        return Results.Text(text.ToString(), "text/plain; charset=utf-8");
    }

    /// <summary>
    /// A GitHub push: verified with <c>X-Hub-Signature-256</c> in constant time, a <c>ping</c> answered, pushes to other
    /// branches and deletions ignored, redeliveries answered without a second fetch; otherwise a fetch starts at once.
    /// </summary>
    private static async Task<IResult> GitHubAsync(
        HttpContext http, CatalogFollower follower, IVersionStore versions, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        // Everything the headers can refuse is refused before the body is read: only a signed body is worth reading.
        var settings = options.Value.Catalog;
        if (settings.Git.WebhookSecret is not { Length: > 0 } secret)
        {
            return Results.Json(new { error = "no GitHub webhook secret is configured (RunbookEngine:Catalog:Git:WebhookSecret); unsigned pushes are refused" }, statusCode: 401);
        }

        var signature = http.Request.Headers["X-Hub-Signature-256"].ToString();
        if (signature.Length == 0)
        {
            return Results.Json(new { error = "the X-Hub-Signature-256 header is missing" }, statusCode: 401);
        }

        if (!signature.StartsWith("sha256=", StringComparison.Ordinal) || signature.Length != "sha256=".Length + 64 || signature.AsSpan("sha256=".Length).ContainsAnyExcept(HexDigits))
        {
            return Results.Json(new { error = "the X-Hub-Signature-256 header is not sha256= and 64 hex digits" }, statusCode: 401);
        }

        var (body, tooLarge) = await WebhookEndpoints.ReadLimitedAsync(http.Request, options.Value.Alerts.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return tooLarge!;
        }

        if (!WebhookSignatures.VerifyGitHub(secret, body, signature))
        {
            return Results.Json(new { error = "the signature does not match the body" }, statusCode: 403);
        }

        var githubEvent = http.Request.Headers["X-GitHub-Event"].ToString();
        var delivery = http.Request.Headers["X-GitHub-Delivery"].ToString();
        if (githubEvent == "ping")
        {
            return Results.Ok(new { pong = true });
        }

        if (githubEvent != "push")
        {
            return Results.Ok(new { ignored = $"event '{githubEvent}'" });
        }

        var push = GitHubPush.Parse(body, http.Request.ContentType);
        if (push is null)
        {
            return Results.Json(new { error = "not a push payload: ref is missing" }, statusCode: 400);
        }

        if (push.Ref != $"refs/heads/{settings.Git.Branch}")
        {
            return Results.Ok(new { ignored = $"a push to {push.Ref}; following refs/heads/{settings.Git.Branch}" });
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

/// <summary>The fields of a GitHub push that decide whether to fetch.</summary>
internal sealed record GitHubPush(string Ref, string? After, bool Deleted)
{
    public static GitHubPush? Parse(byte[] body, string? contentType)
    {
        try
        {
            var json = body;
            if (contentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) == true)
            {
                var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
                json = Encoding.UTF8.GetBytes(form.TryGetValue("payload", out var payload) ? payload.ToString() : "");
            }

            using var document = System.Text.Json.JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object || !root.TryGetProperty("ref", out var reference) || reference.ValueKind != System.Text.Json.JsonValueKind.String)
            {
                return null;
            }

            return new GitHubPush(
                reference.GetString()!,
                root.TryGetProperty("after", out var after) && after.ValueKind == System.Text.Json.JsonValueKind.String ? after.GetString() : null,
                root.TryGetProperty("deleted", out var deleted) && deleted.ValueKind == System.Text.Json.JsonValueKind.True);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }
}
