using System.Text;
using Octokit.Webhooks;
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

    private static async Task<IResult> VersionsAsync(
        string name, IVersionStore versions, RunbookCatalog catalog, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        var list = await versions.ListVersionsAsync(name, cancellationToken);
        if (list.Count == 0 && catalog.Find(name) is null)
        {
            return TypedResults.NotFound(new ApiError($"no runbook '{name}'"));
        }

        var serving = catalog.Find(name)?.ContentHash;
        return TypedResults.Ok(list.Select(v =>
        {
            var provenance = RunbookEngine.GitHub.Provenance.Of(v, options.Value.GitHub);
            return new
            {
                version = v.ContentHash,
                v.Commit,
                v.Author,
                v.CommittedAt,
                v.Message,
                provenance?.CommitUrl,
                provenance?.PullRequest,
                v.Valid,
                v.Errors,
                v.FirstSeenAt,
                serving = v.ContentHash == serving,
                source = $"/api/runbooks/{name}/versions/{v.ContentHash}/source",
            };
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
    /// A GitHub push or pull request: refused by its headers before the body is read, then verified and parsed by Octokit.Webhooks
    /// (<see cref="WebhookSignatureValidator"/>, <see cref="WebhookEventProcessor"/>); <see cref="GitHubCatalogHooks"/> decides the answer.
    /// </summary>
    /// <remarks>
    /// Why not the library's own <c>MapGitHubWebhooks</c>: it reads the whole body, unbounded, before checking anything; it
    /// accepts unsigned deliveries when no secret is configured; it answers 400 with plain text for every refusal, 500 for an
    /// event it has no type for, and an empty 200 for the rest; and it refuses form-encoded hooks. Each of those would change
    /// what GitHub (and an operator reading its delivery log) sees here, so the endpoint stays ours and the library does the
    /// parts it is for: the signature and the event types.
    /// </remarks>
    private static async Task<IResult> GitHubAsync(
        HttpContext http, CatalogFollower follower, RunbookEngine.GitHub.PullRequestChecks pullRequests, IVersionStore versions, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        // Everything the headers can refuse is refused before the body is read: only a signed body is worth reading.
        // GitHub:WebhookSecret is the home of the secret now; the catalog's older setting still works on its own.
        var secret = options.Value.GitHub.WebhookSecret is { Length: > 0 } gitHubSecret ? gitHubSecret : options.Value.Catalog.Git.WebhookSecret;
        if (secret is not { Length: > 0 })
        {
            return Results.Json(new { error = "no GitHub webhook secret is configured (RunbookEngine:GitHub:WebhookSecret, or RunbookEngine:Catalog:Git:WebhookSecret); unsigned pushes are refused" }, statusCode: 401);
        }

        var signature = http.Request.Headers["X-Hub-Signature-256"].ToString();
        if (signature.Length == 0)
        {
            return Results.Json(new { error = "the X-Hub-Signature-256 header is missing" }, statusCode: 401);
        }

        // Only the header's shape, so that a body is not read for a header that can never match; the MAC is the library's.
        if (!signature.StartsWith("sha256=", StringComparison.Ordinal) || signature.Length != "sha256=".Length + 64 || signature.AsSpan("sha256=".Length).ContainsAnyExcept(HexDigits))
        {
            return Results.Json(new { error = "the X-Hub-Signature-256 header is not sha256= and 64 hex digits" }, statusCode: 401);
        }

        var (body, tooLarge) = await WebhookEndpoints.ReadLimitedAsync(http.Request, options.Value.Alerts.MaxBodyBytes, cancellationToken);
        if (body is null)
        {
            return tooLarge!;
        }

        // Over the raw bytes as received, whatever the content type, as GitHub signs them; compared in constant time.
        switch (WebhookSignatureValidator.Verify(signature, secret, body))
        {
            case WebhookSignatureValidationResult.Valid:
                break;
            case WebhookSignatureValidationResult.SignatureMismatch:
                return Results.Json(new { error = "the signature does not match the body" }, statusCode: 403);
            default:
                // MissingSignature and MissingSecret were refused above; a case the library may add stays a refusal.
                return Results.Json(new { error = "the X-Hub-Signature-256 header could not be checked" }, statusCode: 401);
        }

        // Only the events the catalog acts on are parsed: any other is ignored as it always was, including events newer
        // than this version of the library, which it would fail to parse.
        var githubEvent = http.Request.Headers["X-GitHub-Event"].ToString();
        if (githubEvent is not ("push" or "ping" or "pull_request"))
        {
            return Results.Ok(new { ignored = $"event '{githubEvent}'" });
        }

        var hooks = new GitHubCatalogHooks(options.Value.Catalog.Git.Branch, options.Value.GitHub, follower, pullRequests, versions);
        try
        {
            await hooks.ProcessWebhookAsync(http.Request.Headers, PayloadOf(body, http.Request.ContentType), cancellationToken);
        }
        catch (System.Text.Json.JsonException ex)
        {
            return Results.Json(new { error = $"not a {githubEvent} payload: {ex.Message}" }, statusCode: 400);
        }

        return hooks.Answer ?? Results.Json(new { error = $"not a {githubEvent} payload" }, statusCode: 400);
    }

    /// <summary>
    /// The JSON of a delivery. A hook whose content type is <c>application/x-www-form-urlencoded</c> sends it as the <c>payload</c>
    /// field; the library reads JSON only, so that one field is taken out here, after the signature over the whole form was checked.
    /// </summary>
    private static ReadOnlyMemory<byte> PayloadOf(byte[] body, string? contentType)
    {
        if (contentType?.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase) != true)
        {
            return body;
        }

        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(Encoding.UTF8.GetString(body));
        return Encoding.UTF8.GetBytes(form.TryGetValue("payload", out var payload) ? payload.ToString() : "");
    }
}
