using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RunbookEngine.TestSupport;

/// <summary>
/// GitHub's REST API as far as check runs and App installation tokens go, on 127.0.0.1: it answers with the shapes
/// GitHub documents and records every request (method, path, Authorization header, JSON body) so a test sees exactly
/// what left the host.
/// </summary>
public sealed partial class FakeGitHubApi : LoopbackHttpServer
{
    private readonly List<GitHubRequest> _requests = [];
    private long _nextId = 4000;
    private int _tokens;

    private FakeGitHubApi()
    {
    }

    /// <summary>When set, every request is answered with this status (an outage: 500; an expired token: 401).</summary>
    public int? FailWith { get; set; }

    /// <summary>How long each installation token handed out is good for. Default one hour.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>The clock that dates tokens' expiry. Default the system's.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;

    /// <summary>Commits that already carry a <c>runbooks</c> check run (another node posted it).</summary>
    public HashSet<string> AlreadyChecked { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request so far.</summary>
    public IReadOnlyList<GitHubRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts the API on a free loopback port.</summary>
    /// <returns>The API.</returns>
    public static FakeGitHubApi Start()
    {
        // Its address is what to configure as RunbookEngine:GitHub:ApiUrl.
        var api = new FakeGitHubApi();
        api.Listen();
        return api;
    }

    /// <summary>The requests once they satisfy a condition (up to 1 minute).</summary>
    /// <param name="complete">When the requests hold everything awaited.</param>
    /// <param name="failure">What is reported if they never do.</param>
    /// <returns>The requests.</returns>
    public Task<IReadOnlyList<GitHubRequest>> UntilAsync(Func<IReadOnlyList<GitHubRequest>, bool> complete, string failure) =>
        UntilAsync(() => Requests, complete, TimeSpan.FromMinutes(1), requests => $"{failure}; the API received: {string.Join(", ", requests.Select(r => $"{r.Method} {r.Path}"))}");

    /// <inheritdoc />
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var path = context.Request.Url!.AbsolutePath;
        var request = new GitHubRequest(context.Request.HttpMethod, path, context.Request.Url.Query, context.Request.Headers["Authorization"] ?? "",
            text.Length == 0 ? null : JsonDocument.Parse(text).RootElement.Clone());
        lock (_requests)
        {
            _requests.Add(request);
        }

        var (status, body) = FailWith is { } failure ? (failure, """{"message":"Server Error"}""") : Answer(request);
        response.StatusCode = status;
        response.ContentType = "application/json; charset=utf-8";
        var bytes = Encoding.UTF8.GetBytes(body);
        await response.OutputStream.WriteAsync(bytes);
    }

    private (int Status, string Body) Answer(GitHubRequest request)
    {
        if (request.Method == "POST" && InstallationToken().Match(request.Path) is { Success: true })
        {
            var n = Interlocked.Increment(ref _tokens);
            var expires = Time.GetUtcNow().Add(TokenLifetime).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            return (201, JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["token"] = $"ghs_fake{n}",
                ["expires_at"] = expires,
                ["permissions"] = new Dictionary<string, string> { ["checks"] = "write", ["contents"] = "read" },
                ["repository_selection"] = "selected",
            }));
        }

        if (request.Method == "GET" && CommitCheckRuns().Match(request.Path) is { Success: true } list)
        {
            var sha = list.Groups["ref"].Value;
            var runs = AlreadyChecked.Contains(sha) ? $"[{CheckRun(1, sha, "runbooks", "completed", "success")}]" : "[]";
            return (200, $$"""{"total_count":{{(AlreadyChecked.Contains(sha) ? 1 : 0)}},"check_runs":{{runs}}}""");
        }

        if (request.Method == "POST" && CheckRuns().Match(request.Path) is { Success: true })
        {
            var body = request.Body!.Value;
            var id = Interlocked.Increment(ref _nextId);
            return (201, CheckRun(id, body.GetProperty("head_sha").GetString()!, body.GetProperty("name").GetString()!,
                body.TryGetProperty("status", out var s) ? s.GetString()! : "queued", body.TryGetProperty("conclusion", out var c) ? c.GetString() : null));
        }

        if (request.Method == "PATCH" && OneCheckRun().Match(request.Path) is { Success: true } one)
        {
            return (200, CheckRun(long.Parse(one.Groups["id"].Value, CultureInfo.InvariantCulture), new string('0', 40), "runbooks", "completed", "failure"));
        }

        return (404, """{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}""");
    }

    private string CheckRun(long id, string sha, string name, string status, string? conclusion) => JsonSerializer.Serialize(new Dictionary<string, object?>
    {
        ["id"] = id,
        ["head_sha"] = sha,
        ["node_id"] = "CR_fake",
        ["external_id"] = "",
        ["url"] = $"{Address}repos/acme/runbooks/check-runs/{id}",
        ["html_url"] = $"https://github.com/acme/runbooks/runs/{id}",
        ["details_url"] = null,
        ["status"] = status,
        ["conclusion"] = conclusion,
        ["started_at"] = "2026-12-05T08:00:00Z",
        ["completed_at"] = status == "completed" ? "2026-12-05T08:00:01Z" : null,
        ["output"] = new Dictionary<string, object?> { ["title"] = "", ["summary"] = "", ["text"] = null, ["annotations_count"] = 0, ["annotations_url"] = $"{Address}repos/acme/runbooks/check-runs/{id}/annotations" },
        ["name"] = name,
        ["check_suite"] = new Dictionary<string, object> { ["id"] = 5 },
        ["app"] = null,
        ["pull_requests"] = Array.Empty<object>(),
    });

    [GeneratedRegex(@"^/app/installations/(?<id>\d+)/access_tokens$")]
    private static partial Regex InstallationToken();

    [GeneratedRegex(@"^/repos/[^/]+/[^/]+/commits/(?<ref>[^/]+)/check-runs$")]
    private static partial Regex CommitCheckRuns();

    [GeneratedRegex(@"^/repos/[^/]+/[^/]+/check-runs$")]
    private static partial Regex CheckRuns();

    [GeneratedRegex(@"^/repos/[^/]+/[^/]+/check-runs/(?<id>\d+)$")]
    private static partial Regex OneCheckRun();
}

/// <summary>One request the fake API received.</summary>
/// <param name="Method">GET, POST, PATCH.</param>
/// <param name="Path">The path, without the query.</param>
/// <param name="Query">The query, with its <c>?</c>.</param>
/// <param name="Authorization">The Authorization header, or empty.</param>
/// <param name="Body">The JSON body, if any.</param>
public sealed record GitHubRequest(string Method, string Path, string Query, string Authorization, JsonElement? Body);
