using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunbookEngine.TestSupport;

/// <summary>
/// Slack's Web API as far as <c>chat.postMessage</c> and <c>chat.update</c> go, on 127.0.0.1: it checks the bot token,
/// answers with the shapes Slack documents (<c>{"ok":true,"channel":"C…","ts":"…"}</c>, and <c>{"ok":false,"error":"…"}</c>
/// with HTTP 200; <c>ratelimited</c> as 429 with <c>Retry-After</c>), and records every request, including what a host
/// posts to an interaction's <c>response_url</c> (any other path of this server). Also signs interactions as Slack does.
/// </summary>
public sealed class FakeSlackApi : LoopbackHttpServer
{
    private readonly List<SlackRequest> _requests = [];
    private readonly HashSet<string> _messages = new(StringComparer.Ordinal);
    private long _nextTs = 1_700_000_000;

    private FakeSlackApi(string token)
    {
        Token = token;
    }

    /// <summary>The bot token it accepts.</summary>
    public string Token { get; }

    /// <summary>How many more Web API calls to answer 429 ratelimited (with <c>Retry-After: 1</c>).</summary>
    public int RateLimitNext { get; set; }

    /// <summary>When set, every Web API call answers <c>{"ok":false,"error":this}</c> with HTTP 200.</summary>
    public string? FailWith { get; set; }

    /// <summary>Every request so far, in order.</summary>
    public IReadOnlyList<SlackRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Starts the API on a free loopback port; its address is the channel's <c>Url</c>.</summary>
    /// <param name="token">The bot token it accepts.</param>
    /// <returns>The API.</returns>
    public static FakeSlackApi Start(string token)
    {
        var api = new FakeSlackApi(token);
        api.Listen();
        return api;
    }

    /// <summary>The requests once they satisfy a condition (up to 1 minute).</summary>
    /// <param name="complete">When the requests hold everything awaited.</param>
    /// <param name="failure">What is reported if they never do.</param>
    /// <returns>The requests.</returns>
    public Task<IReadOnlyList<SlackRequest>> UntilAsync(Func<IReadOnlyList<SlackRequest>, bool> complete, string failure) =>
        UntilAsync(() => Requests, complete, TimeSpan.FromMinutes(1), requests => $"{failure}; Slack received: {string.Join(" | ", requests.Select(r => $"{r.Path} {r.Body}"))}");

    /// <summary>The signature Slack puts in <c>X-Slack-Signature</c>, computed here on its own (not by the engine's code).</summary>
    /// <param name="secret">The app's signing secret.</param>
    /// <param name="timestamp">The <c>X-Slack-Request-Timestamp</c> value.</param>
    /// <param name="body">The raw body.</param>
    /// <returns><c>v0=</c> and lower-case hex.</returns>
    public static string Sign(string secret, string timestamp, string body)
    {
        using var hmac = new HMACSHA256(Encoding.UTF8.GetBytes(secret));
        return "v0=" + Convert.ToHexString(hmac.ComputeHash(Encoding.UTF8.GetBytes("v0:" + timestamp + ":" + body))).ToLowerInvariant();
    }

    /// <summary>
    /// A <c>block_actions</c> interaction as Slack posts it when a person clicks a button: form-encoded <c>payload=</c> JSON
    /// with the user, the container message, a trigger id, the response URL and the action.
    /// </summary>
    /// <param name="action">The button's <c>action_id</c> (<c>approve</c> or <c>reject</c>).</param>
    /// <param name="value">The button's <c>value</c>, as the message carried it.</param>
    /// <param name="userId">The Slack user id of who clicked.</param>
    /// <param name="userName">Their Slack user name.</param>
    /// <param name="responseUrl">Where the host may answer the person.</param>
    /// <param name="triggerId">The click's trigger id; a fresh one when null.</param>
    /// <param name="team">The workspace's team id, of the callback and of the user.</param>
    /// <returns>The request body.</returns>
    public static string Interaction(string action, string value, string userId, string userName, Uri responseUrl, string? triggerId = null, string team = "T0TEAM")
    {
        var payload = new JsonObject
        {
            ["type"] = "block_actions",
            ["user"] = new JsonObject { ["id"] = userId, ["username"] = userName, ["name"] = userName, ["team_id"] = team },
            ["api_app_id"] = "A0RUNBOOKS",
            ["token"] = "deprecated-verification-token",
            ["container"] = new JsonObject { ["type"] = "message", ["message_ts"] = "1700000001.000100", ["channel_id"] = "C0RUNBOOKS", ["is_ephemeral"] = false },
            ["trigger_id"] = triggerId ?? $"{Random.Shared.NextInt64(1_000_000_000, 9_999_999_999)}.{Guid.NewGuid():N}",
            ["team"] = new JsonObject { ["id"] = team, ["domain"] = "example" },
            ["channel"] = new JsonObject { ["id"] = "C0RUNBOOKS", ["name"] = "runbooks" },
            ["response_url"] = responseUrl.ToString(),
            ["actions"] = new JsonArray
            {
                new JsonObject
                {
                    ["action_id"] = action, ["block_id"] = "runbook-answer", ["type"] = "button", ["value"] = value,
                    ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = action },
                    ["action_ts"] = "1700000002.000200",
                },
            },
        };
        return "payload=" + Uri.EscapeDataString(payload.ToJsonString());
    }

    /// <summary>Posts a body to a host's interactions endpoint signed with <paramref name="secret"/> at <paramref name="at"/>.</summary>
    /// <param name="http">A client of the host.</param>
    /// <param name="body">The form body.</param>
    /// <param name="secret">The signing secret to sign with.</param>
    /// <param name="at">The request's timestamp.</param>
    /// <param name="signature">A signature to send instead of the computed one (a forgery).</param>
    /// <returns>The status and the body answered.</returns>
    public static async Task<(int Status, string Body)> PostInteractionAsync(HttpClient http, string body, string secret, DateTimeOffset at, string? signature = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/slack/interactions")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Add("X-Slack-Request-Timestamp", timestamp);
        request.Headers.Add("X-Slack-Signature", signature ?? Sign(secret, timestamp, body));
        using var response = await http.SendAsync(request);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <inheritdoc />
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var text = await reader.ReadToEndAsync();
        var path = context.Request.Url!.AbsolutePath;
        var method = path.StartsWith("/chat.", StringComparison.Ordinal) ? path[1..] : null;
        JsonObject answer;
        var status = 200;
        if (method is null)
        {
            // A response_url: Slack answers a plain "ok".
            Record(path, context, text, 200, "ok");
            await WriteAsync(context, 200, "text/plain", "ok");
            return;
        }

        JsonObject? body = null;
        try
        {
            body = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            // Answered below as Slack does for a body it cannot read.
        }

        if (RateLimitNext > 0)
        {
            RateLimitNext--;
            status = 429;
            context.Response.Headers["Retry-After"] = "1";
            answer = new JsonObject { ["ok"] = false, ["error"] = "ratelimited" };
        }
        else if (context.Request.Headers["Authorization"] != $"Bearer {Token}")
        {
            answer = new JsonObject { ["ok"] = false, ["error"] = "invalid_auth" };
        }
        else if (FailWith is { } error)
        {
            answer = new JsonObject { ["ok"] = false, ["error"] = error };
        }
        else if (body?["channel"]?.GetValue<string>() is not { Length: > 0 } channel)
        {
            answer = new JsonObject { ["ok"] = false, ["error"] = "channel_not_found" };
        }
        else if (method == "chat.postMessage")
        {
            var ts = $"{Interlocked.Increment(ref _nextTs)}.000100";
            lock (_messages)
            {
                _messages.Add($"{channel}/{ts}");
            }

            answer = new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["message"] = new JsonObject { ["text"] = body["text"]?.DeepClone(), ["ts"] = ts } };
        }
        else if (method == "chat.update")
        {
            var ts = body["ts"]?.GetValue<string>() ?? "";
            bool known;
            lock (_messages)
            {
                known = _messages.Contains($"{channel}/{ts}");
            }

            answer = known
                ? new JsonObject { ["ok"] = true, ["channel"] = channel, ["ts"] = ts, ["text"] = body["text"]?.DeepClone() }
                : new JsonObject { ["ok"] = false, ["error"] = "message_not_found" };
        }
        else
        {
            answer = new JsonObject { ["ok"] = false, ["error"] = "unknown_method" };
        }

        Record(path, context, text, status, answer.ToJsonString());
        await WriteAsync(context, status, "application/json; charset=utf-8", answer.ToJsonString());
    }

    private void Record(string path, HttpListenerContext context, string body, int status, string answer)
    {
        lock (_requests)
        {
            _requests.Add(new SlackRequest(path, context.Request.Headers["Authorization"], body, status, answer));
        }
    }

    private static async Task WriteAsync(HttpListenerContext context, int status, string type, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
    }
}

/// <summary>A request the fake Slack took.</summary>
/// <param name="Path">The path: <c>/chat.postMessage</c>, <c>/chat.update</c>, or a response URL's.</param>
/// <param name="Authorization">The Authorization header.</param>
/// <param name="Body">The body as text.</param>
/// <param name="Status">The HTTP status it answered.</param>
/// <param name="Answer">The body it answered.</param>
public sealed record SlackRequest(string Path, string? Authorization, string Body, int Status, string Answer)
{
    /// <summary>Whether Slack took it (<c>"ok":true</c>).</summary>
    public bool Ok => Answer.Contains("\"ok\":true", StringComparison.Ordinal);

    /// <summary>The ts Slack answered: the message posted or updated.</summary>
    public string? Ts => Ok ? JsonDocument.Parse(Answer).RootElement.GetProperty("ts").GetString() : null;

    /// <summary>The body as JSON (every Web API call and response URL post is JSON).</summary>
    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    /// <summary>Whether it is a call of this Web API method.</summary>
    /// <param name="method">The method, <c>chat.postMessage</c> or <c>chat.update</c>.</param>
    /// <returns>True when it is.</returns>
    public bool Is(string method) => Path == "/" + method;
}
