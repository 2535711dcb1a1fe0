using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RunbookEngine.TestSupport;

/// <summary>
/// GitHub's REST API as far as check runs, App installation tokens, a repository's commits and their tarballs go, on
/// 127.0.0.1: it answers with the shapes GitHub documents (ETags and rate-limit headers included) and records every
/// request (method, path, Authorization and If-None-Match headers, JSON body, the status answered) so a test sees
/// exactly what left the host.
/// </summary>
public sealed partial class FakeGitHubApi : LoopbackHttpServer
{
    private readonly List<GitHubRequest> _requests = [];
    private readonly Dictionary<string, FakeCommit> _commits = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _branches = new(StringComparer.Ordinal);
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

    /// <summary>
    /// Until when every request is refused as rate-limited (<c>403</c> with <c>x-ratelimit-remaining: 0</c> and
    /// <c>x-ratelimit-reset</c>), judged by <see cref="Time"/>.
    /// </summary>
    public DateTimeOffset? RateLimitedUntil { get; set; }

    /// <summary>The pull request each commit was merged from, into <c>main</c> (<c>GET /repos/{o}/{r}/commits/{sha}/pulls</c>).</summary>
    public Dictionary<string, int> MergedFrom { get; } = new(StringComparer.Ordinal);

    /// <summary>Tarballs served as given in place of the commit's own (a hand-made archive a test wants refused), by commit.</summary>
    public Dictionary<string, byte[]> Tarballs { get; } = new(StringComparer.Ordinal);

    /// <summary>When set, a tarball's first half is sent and the rest only once this completes (a body that stalls after its headers).</summary>
    public TaskCompletionSource? StallTarballs { get; set; }

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

    /// <summary>
    /// Commits <paramref name="files"/> (repository paths; null deletes) on top of the branch's head and moves the branch
    /// to it, as a push does.
    /// </summary>
    /// <param name="branch">The branch.</param>
    /// <param name="files">What changes.</param>
    /// <param name="message">The commit message.</param>
    /// <returns>The new commit's SHA.</returns>
    public string Push(string branch, IReadOnlyDictionary<string, string?> files, string message)
    {
        lock (_commits)
        {
            var sha = Commit(_branches.TryGetValue(branch, out var head) ? head : null, files, message);
            _branches[branch] = sha;
            return sha;
        }
    }

    /// <summary>Commits <paramref name="files"/> on top of <paramref name="parent"/> without moving any branch (a pull request's head).</summary>
    /// <param name="parent">The commit it builds on, or null for a first commit.</param>
    /// <param name="files">What changes.</param>
    /// <param name="message">The commit message.</param>
    /// <returns>The new commit's SHA.</returns>
    public string Commit(string? parent, IReadOnlyDictionary<string, string?> files, string message)
    {
        ArgumentNullException.ThrowIfNull(files);
        lock (_commits)
        {
            var tree = parent is null ? new SortedDictionary<string, string>(StringComparer.Ordinal) : new SortedDictionary<string, string>(_commits[parent].Files.ToDictionary(), StringComparer.Ordinal);
            foreach (var (path, text) in files)
            {
                if (text is null)
                {
                    tree.Remove(path);
                }
                else
                {
                    tree[path] = text;
                }
            }

            var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{parent}\n{message}\n{_commits.Count}\n{string.Join("\n", tree.Select(f => f.Key + "\0" + f.Value))}")))[..40];
            _commits[sha] = new FakeCommit(sha, message, tree);
            return sha;
        }
    }

    /// <inheritdoc />
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var response = context.Response;
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var path = context.Request.Url!.AbsolutePath;
        var request = new GitHubRequest(context.Request.HttpMethod, path, context.Request.Url.Query, context.Request.Headers["Authorization"] ?? "",
            text.Length == 0 ? null : JsonDocument.Parse(text).RootElement.Clone(), context.Request.Headers["If-None-Match"]);

        var answer = FailWith is { } failure ? new Response(failure, """{"message":"Server Error"}""")
            : RateLimited() ?? Content(request) ?? Answer(request);

        lock (_requests)
        {
            _requests.Add(request with { Status = answer.Status });
        }

        response.StatusCode = answer.Status;
        response.ContentType = answer.ContentType;
        foreach (var (name, value) in answer.Headers ?? new Dictionary<string, string>())
        {
            response.Headers[name] = value;
        }

        if (answer.Status != 304)
        {
            var body = answer.Bytes ?? Encoding.UTF8.GetBytes(answer.Body);
            if (answer.Stall is { } stall)
            {
                await WriteBodyAsync(response, body[..(body.Length / 2)]);
                await stall.Task;
                body = body[(body.Length / 2)..];
            }

            await WriteBodyAsync(response, body);
        }
    }

    private Response? RateLimited()
    {
        if (RateLimitedUntil is not { } until || Time.GetUtcNow() >= until)
        {
            return null;
        }

        // As GitHub documents the primary rate limit's refusal.
        return new Response(403, """{"message":"API rate limit exceeded for installation ID 987.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}""")
        {
            Headers = new Dictionary<string, string>
            {
                ["x-ratelimit-limit"] = "5000",
                ["x-ratelimit-remaining"] = "0",
                ["x-ratelimit-used"] = "5000",
                ["x-ratelimit-reset"] = until.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
                ["x-ratelimit-resource"] = "core",
            },
        };
    }

    /// <summary>A repository's commits and tarballs; null for any other request.</summary>
    private Response? Content(GitHubRequest request)
    {
        if (request.Method != "GET")
        {
            return null;
        }

        if (CommitPulls().Match(request.Path) is { Success: true } pullsMatch)
        {
            var (owner, repo, sha) = (pullsMatch.Groups["owner"].Value, pullsMatch.Groups["repo"].Value, pullsMatch.Groups["sha"].Value);
            if (!MergedFrom.TryGetValue(sha, out var number))
            {
                return new Response(200, "[]");
            }

            return new Response(200, JsonSerializer.Serialize(new[]
            {
                new Dictionary<string, object?>
                {
                    ["id"] = 9000 + number,
                    ["number"] = number,
                    ["state"] = "closed",
                    ["title"] = "Change runbooks",
                    ["url"] = $"{Address}repos/{owner}/{repo}/pulls/{number}",
                    ["html_url"] = $"https://github.com/{owner}/{repo}/pull/{number}",
                    ["merged_at"] = "2026-12-05T07:59:00Z",
                    ["merge_commit_sha"] = sha,
                    ["head"] = new Dictionary<string, object> { ["ref"] = "change", ["sha"] = new string('1', 40), ["label"] = $"{owner}:change" },
                    ["base"] = new Dictionary<string, object> { ["ref"] = "main", ["sha"] = new string('2', 40), ["label"] = $"{owner}:main" },
                },
            }));
        }

        if (OneCommit().Match(request.Path) is { Success: true } commitMatch)
        {
            if (Resolve(commitMatch.Groups["ref"].Value) is not { } commit)
            {
                return new Response(422, $$"""{"message":"No commit found for SHA: {{commitMatch.Groups["ref"].Value}}","documentation_url":"https://docs.github.com/rest/commits/commits#get-a-commit"}""");
            }

            var etag = $"W/\"{commit.Sha}\"";
            var headers = new Dictionary<string, string> { ["ETag"] = etag, ["x-ratelimit-limit"] = "5000", ["x-ratelimit-remaining"] = "4999", ["x-ratelimit-reset"] = Time.GetUtcNow().AddHours(1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture) };
            return request.IfNoneMatch == etag
                ? new Response(304, "") { Headers = headers }
                : new Response(200, CommitJson(commitMatch.Groups["owner"].Value, commitMatch.Groups["repo"].Value, commit)) { Headers = headers };
        }

        if (Tarball().Match(request.Path) is { Success: true } tarMatch)
        {
            if (Resolve(tarMatch.Groups["ref"].Value) is not { } commit)
            {
                return new Response(404, """{"message":"Not Found","documentation_url":"https://docs.github.com/rest/repos/contents#download-a-repository-archive-tar"}""");
            }

            var bytes = Tarballs.TryGetValue(commit.Sha, out var given) ? given : TarballOf(tarMatch.Groups["owner"].Value, tarMatch.Groups["repo"].Value, commit);
            return new Response(200, "") { ContentType = "application/x-gzip", Bytes = bytes, Stall = StallTarballs };
        }

        return null;
    }

    private FakeCommit? Resolve(string reference)
    {
        lock (_commits)
        {
            var sha = _branches.TryGetValue(reference, out var head) ? head : reference;
            return _commits.GetValueOrDefault(sha);
        }
    }

    private string CommitJson(string owner, string repo, FakeCommit commit)
    {
        var person = new Dictionary<string, object> { ["name"] = "Ada Lovelace", ["email"] = "ada@example.com", ["date"] = "2026-12-05T08:00:00Z" };
        return JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["sha"] = commit.Sha,
            ["node_id"] = "C_fake",
            ["url"] = $"{Address}repos/{owner}/{repo}/commits/{commit.Sha}",
            ["html_url"] = $"https://github.com/{owner}/{repo}/commit/{commit.Sha}",
            ["comments_url"] = $"{Address}repos/{owner}/{repo}/commits/{commit.Sha}/comments",
            ["commit"] = new Dictionary<string, object?>
            {
                ["url"] = $"{Address}repos/{owner}/{repo}/git/commits/{commit.Sha}",
                ["author"] = person,
                ["committer"] = person,
                ["message"] = commit.Message,
                ["tree"] = new Dictionary<string, string> { ["sha"] = new string('7', 40), ["url"] = $"{Address}repos/{owner}/{repo}/git/trees/{new string('7', 40)}" },
                ["comment_count"] = 0,
                ["verification"] = new Dictionary<string, object?> { ["verified"] = false, ["reason"] = "unsigned", ["signature"] = null, ["payload"] = null },
            },
            ["author"] = null,
            ["committer"] = null,
            ["parents"] = Array.Empty<object>(),
            ["stats"] = new Dictionary<string, int> { ["additions"] = 0, ["deletions"] = 0, ["total"] = 0 },
            ["files"] = Array.Empty<object>(),
        });
    }

    /// <summary>The gzipped tar GitHub serves: a pax global header naming the commit, then everything under <c>owner-repo-sha7/</c>.</summary>
    private static byte[] TarballOf(string owner, string repo, FakeCommit commit)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxGlobalExtendedAttributesTarEntry(new Dictionary<string, string> { ["comment"] = commit.Sha }));
            var top = $"{owner}-{repo}-{commit.Sha[..7]}/";
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, top));
            var folders = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (path, text) in commit.Files)
            {
                var parts = path.Split('/');
                for (var i = 1; i < parts.Length; i++)
                {
                    var folder = string.Join('/', parts[..i]) + "/";
                    if (folders.Add(folder))
                    {
                        writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, top + folder));
                    }
                }

                var entry = new PaxTarEntry(TarEntryType.RegularFile, top + path) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
                writer.WriteEntry(entry);
            }
        }

        return output.ToArray();
    }

    private Response Answer(GitHubRequest request)
    {
        if (request.Method == "POST" && InstallationToken().Match(request.Path) is { Success: true })
        {
            var n = Interlocked.Increment(ref _tokens);
            var expires = Time.GetUtcNow().Add(TokenLifetime).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            return new Response(201, JsonSerializer.Serialize(new Dictionary<string, object>
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
            return new Response(200, $$"""{"total_count":{{(AlreadyChecked.Contains(sha) ? 1 : 0)}},"check_runs":{{runs}}}""");
        }

        if (request.Method == "POST" && CheckRuns().Match(request.Path) is { Success: true })
        {
            var body = request.Body!.Value;
            var id = Interlocked.Increment(ref _nextId);
            return new Response(201, CheckRun(id, body.GetProperty("head_sha").GetString()!, body.GetProperty("name").GetString()!,
                body.TryGetProperty("status", out var s) ? s.GetString()! : "queued", body.TryGetProperty("conclusion", out var c) ? c.GetString() : null));
        }

        if (request.Method == "PATCH" && OneCheckRun().Match(request.Path) is { Success: true } one)
        {
            return new Response(200, CheckRun(long.Parse(one.Groups["id"].Value, CultureInfo.InvariantCulture), new string('0', 40), "runbooks", "completed", "failure"));
        }

        return new Response(404, """{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}""");
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

    [GeneratedRegex(@"^/repos/(?<owner>[^/]+)/(?<repo>[^/]+)/commits/(?<ref>[^/]+)$")]
    private static partial Regex OneCommit();

    [GeneratedRegex(@"^/repos/(?<owner>[^/]+)/(?<repo>[^/]+)/commits/(?<sha>[^/]+)/pulls$")]
    private static partial Regex CommitPulls();

    [GeneratedRegex(@"^/repos/(?<owner>[^/]+)/(?<repo>[^/]+)/tarball/(?<ref>[^/]+)$")]
    private static partial Regex Tarball();

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
/// <param name="IfNoneMatch">The If-None-Match header (a conditional request), if any.</param>
/// <param name="Status">The status it was answered with.</param>
public sealed record GitHubRequest(string Method, string Path, string Query, string Authorization, JsonElement? Body, string? IfNoneMatch = null, int Status = 0);

/// <summary>A commit of the fake repository: the whole tree at it.</summary>
/// <param name="Sha">Its SHA.</param>
/// <param name="Message">Its message.</param>
/// <param name="Files">Every file, by repository path.</param>
internal sealed record FakeCommit(string Sha, string Message, IReadOnlyDictionary<string, string> Files);

/// <summary>An answer of the fake API.</summary>
/// <param name="Status">Its status.</param>
/// <param name="Body">Its JSON body.</param>
internal sealed record Response(int Status, string Body)
{
    public string ContentType { get; init; } = "application/json; charset=utf-8";

    public byte[]? Bytes { get; init; }

    public TaskCompletionSource? Stall { get; init; }

    public IReadOnlyDictionary<string, string>? Headers { get; init; }
}
