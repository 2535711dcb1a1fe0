using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Runs;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;

namespace RunbookEngine.Notifications;

/// <summary>
/// The Approve and Reject buttons' callbacks (<c>POST /hooks/slack/interactions</c>): verified with a Slack channel's
/// signing secret, refused when stale or replayed, mapped to a person, and answered through <see cref="HumanSteps"/>,
/// the path the API's approve and reject take, so roles and four eyes hold the same.
/// </summary>
/// <remarks>
/// Slack wants a 200 within 3 seconds and shows the person nothing from its body for <c>block_actions</c>, so a refusal
/// of the answer (a role, four eyes, already answered) is a 200 with an ephemeral message to the person through the
/// callback's <c>response_url</c>. Only a request that is not provably Slack's (bad signature, stale, unreadable) gets 401
/// or 400. A replay gets 200 and changes nothing: Slack itself never resends an interaction, so a second copy is someone
/// else's, and answering it with an error would only tell them more. Only the answer itself is awaited before the 200:
/// the ephemeral message goes in the background, and the run's message is updated by the outbox's delivery loop (an
/// <c>answered</c> row), the one writer of each message, so an update from here can never land after a newer one.
/// </remarks>
public sealed partial class SlackInteractions(
    HumanSteps humans,
    INotificationStore store,
    IHttpClientFactory clients,
    IHostApplicationLifetime lifetime,
    IOptionsMonitor<RunbookEngineOptions> options,
    TimeProvider time,
    ILogger<SlackInteractions> logger)
{
    /// <summary>How far a callback's timestamp may be from now, as Slack recommends.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    /// <summary>Handles one callback.</summary>
    /// <param name="body">The raw request body, exactly as received (the signature is over these bytes).</param>
    /// <param name="timestamp">The <c>X-Slack-Request-Timestamp</c> header.</param>
    /// <param name="signature">The <c>X-Slack-Signature</c> header.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The HTTP status and body to answer with.</returns>
    public async Task<SlackInteractionAnswer> HandleAsync(byte[] body, string? timestamp, string? signature, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(body);
        var slack = options.CurrentValue.Notifications.Channels
            .Where(c => string.Equals(c.Value.Kind, "slack", StringComparison.OrdinalIgnoreCase) && c.Value.SigningSecret is { Length: > 0 })
            .ToList();
        if (slack.Count == 0)
        {
            return Refuse(401, "no Slack channel has a SigningSecret (RunbookEngine:Notifications:Channels:NAME:SigningSecret), so no callback can be verified");
        }

        if (!long.TryParse(timestamp, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return Refuse(401, "X-Slack-Request-Timestamp is missing or not a Unix time in seconds");
        }

        var now = time.GetUtcNow();
        var sent = seconds > 100_000_000_000 ? DateTimeOffset.MaxValue : DateTimeOffset.FromUnixTimeSeconds(seconds);
        if (sent == DateTimeOffset.MaxValue || (now - sent).Duration() > Window)
        {
            return Refuse(401, $"X-Slack-Request-Timestamp {timestamp} is more than {Window.TotalMinutes:0} minutes from this host's clock ({now.ToUnixTimeSeconds()}); a stale or replayed callback, or a clock that drifted");
        }

        // Every Slack channel whose secret verifies it: channels of one app share its secret (and its people).
        var verified = slack.Where(c => Verifies(c.Value.SigningSecret!, timestamp!, body, signature)).ToList();
        if (verified.Count == 0)
        {
            return Refuse(401, "X-Slack-Signature does not match the body under any Slack channel's SigningSecret");
        }

        if (Payload(body) is not { } payload)
        {
            return Refuse(400, "the body is not payload=JSON as Slack sends interactions");
        }

        var type = Text(payload, "type");
        if (type != "block_actions")
        {
            return new SlackInteractionAnswer(200, new JsonObject { ["ignored"] = $"an interaction of type '{type}'; only block_actions (the Approve and Reject buttons) are handled" });
        }

        var triggerId = Text(payload, "trigger_id");
        var keys = new List<string> { "slack-signature:" + signature };
        if (triggerId is { Length: > 0 })
        {
            keys.Add("slack-trigger:" + triggerId);
        }

        bool first;
        try
        {
            // Kept and forgotten by Slack's signed time, so every node of a cluster forgets a key alike, whatever its clock.
            first = await store.FirstInteractionAsync(keys, sent, sent - Window - Window, cancellationToken);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
        {
            // Without the store a replay cannot be told apart, so nothing is answered; Slack shows the person an error.
            LogStoreAway(e);
            return new SlackInteractionAnswer(503, new JsonObject { ["error"] = "the run store is not reachable, so this callback cannot be checked against replays; nothing was recorded, click again when the store is back or answer from the dashboard" });
        }

        if (!first)
        {
            LogReplayed(triggerId);
            return new SlackInteractionAnswer(200, new JsonObject { ["ignored"] = "this callback was taken already; a replay changes nothing" });
        }

        var action = payload.TryGetProperty("actions", out var actions) && actions.ValueKind == JsonValueKind.Array && actions.GetArrayLength() > 0 ? actions[0] : default;
        var actionId = action.ValueKind == JsonValueKind.Object ? Text(action, "action_id") : null;
        var (runId, sequence) = ParseValue(action.ValueKind == JsonValueKind.Object ? Text(action, "value") : null);
        if (actionId is not (SlackChannel.ApproveAction or SlackChannel.RejectAction) || runId is null)
        {
            return Refuse(400, $"the action '{actionId}' is not one of this engine's buttons (approve or reject with RUN:STEP as its value)");
        }

        var user = payload.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.Object ? u : default;
        var userId = user.ValueKind == JsonValueKind.Object ? Text(user, "id") : null;
        var responseUrl = Text(payload, "response_url");

        // One app can be installed in several workspaces and reach Slack Connect users of others, all signing with the
        // same secret: a channel that names its workspace answers only callbacks from it, by the team and the user's team.
        var teamId = payload.TryGetProperty("team", out var t) && t.ValueKind == JsonValueKind.Object ? Text(t, "id") : null;
        var userTeamId = user.ValueKind == JsonValueKind.Object ? Text(user, "team_id") : null;
        var ours = verified.Where(c => c.Value.TeamId is not { Length: > 0 } team
            || (string.Equals(teamId, team, StringComparison.Ordinal) && (userTeamId is null || string.Equals(userTeamId, team, StringComparison.Ordinal)))).ToList();
        if (ours.Count == 0)
        {
            LogOtherTeam(teamId, userTeamId, userId);
            Tell(verified[0].Value, responseUrl, "Not recorded: this engine answers only its own Slack workspace's users. Answer from the dashboard.");
            return new SlackInteractionAnswer(200, new JsonObject { ["refused"] = $"the callback comes from team {teamId ?? "none"} (user's team {userTeamId ?? "none"}), not the channel's TeamId" });
        }

        verified = ours;
        var person = Person(verified.Select(c => c.Value), userId, user);
        if (person is null)
        {
            var why = userId is null
                ? "the callback names no Slack user"
                : $"Slack user {userId} is not mapped to a person: an admin adds RunbookEngine:Notifications:Channels:{verified[0].Key}:People:{userId}=NAME (the name RunbookEngine:Roles knows)";
            LogUnmapped(runId, sequence, userId, why);
            Tell(verified[0].Value, responseUrl, $"Not recorded: {why}. Answer from the dashboard meanwhile.");
            return new SlackInteractionAnswer(200, new JsonObject { ["refused"] = why });
        }

        var approved = actionId == SlackChannel.ApproveAction;
        var result = await humans.AnswerAsync(runId, sequence, new HumanResponse(approved, person, $"from Slack ({userId})"), cancellationToken);
        if (result.Problem != HumanStepProblem.None)
        {
            LogRefused(runId, sequence, person, userId, result.Message!);
            Tell(verified[0].Value, responseUrl, $"Not recorded: {result.Message}");
            return new SlackInteractionAnswer(200, new JsonObject { ["refused"] = result.Message, ["problem"] = result.Problem.ToString() });
        }

        LogAnswered(runId, sequence, approved ? "approved" : "rejected", person, userId);
        await RefreshAsync(runId, slack);
        return new SlackInteractionAnswer(200, new JsonObject { ["answered"] = approved ? "approved" : "rejected", ["by"] = person, ["runId"] = runId, ["step"] = sequence });
    }

    /// <summary>The <c>X-Slack-Signature</c> Slack sends: <c>v0=</c> and hex HMAC-SHA256 over <c>v0:TIMESTAMP:BODY</c>.</summary>
    /// <param name="secret">The app's signing secret.</param>
    /// <param name="timestamp">The <c>X-Slack-Request-Timestamp</c> header.</param>
    /// <param name="body">The raw body.</param>
    /// <returns>The signature.</returns>
    public static string Sign(string secret, string timestamp, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(timestamp);
        var prefix = Encoding.UTF8.GetBytes($"v0:{timestamp}:");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return "v0=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    private static bool Verifies(string secret, string timestamp, byte[] body, string? signature) =>
        signature is { Length: > 0 }
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(secret, timestamp, body)), Encoding.ASCII.GetBytes(signature));

    /// <summary>
    /// The configured name for the Slack user; else, where a channel opted in with <c>MapUserNames</c>, the user's Slack
    /// user name (which users choose themselves); else null.
    /// </summary>
    private static string? Person(IEnumerable<NotificationChannelOptions> channels, string? userId, JsonElement user)
    {
        if (userId is not null)
        {
            foreach (var channel in channels)
            {
                if (channel.People.TryGetValue(userId, out var name) && name.Trim().Length > 0)
                {
                    return name.Trim();
                }
            }
        }

        return user.ValueKind != JsonValueKind.Object || !channels.Any(c => c.MapUserNames) ? null
            : Text(user, "username") is { Length: > 0 } username ? username
            : Text(user, "name") is { Length: > 0 } name2 ? name2
            : null;
    }

    /// <summary>
    /// Queues an update of the run's message in every Slack channel that posted one, to say who answered. Without
    /// the request's token: the answer is recorded, so the update should be too even if Slack hangs up.
    /// </summary>
    private async Task RefreshAsync(string runId, List<KeyValuePair<string, NotificationChannelOptions>> channels)
    {
        try
        {
            await store.AddMessageRefreshAsync(runId, SlackChannel.AnsweredEvent, [.. channels.Select(c => c.Key)], lifetime.ApplicationStopping);
        }
        catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException or OperationCanceledException)
        {
            // The answer is recorded; the run's next event updates the message through the outbox anyway.
            LogRefreshFailed(runId, string.Join(", ", channels.Select(c => c.Key)), e.Message);
        }
    }

    /// <summary>
    /// Tells the person who clicked why nothing happened: an ephemeral message through the callback's response_url, in
    /// the background, so Slack gets its 200 within its 3 seconds; bounded by the host's stopping.
    /// </summary>
    private void Tell(NotificationChannelOptions settings, string? responseUrl, string text)
    {
        if (!Uri.TryCreate(responseUrl, UriKind.Absolute, out var url) || !MayRespondTo(url, settings))
        {
            LogNoResponseUrl(responseUrl is null ? "none" : "one outside hooks.slack.com");
            return;
        }

        _ = Task.Run(() => TellAsync(url, text, lifetime.ApplicationStopping), CancellationToken.None);
    }

    private async Task TellAsync(Uri url, string text, CancellationToken stopping)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stopping, timeout.Token);
        try
        {
            var body = new JsonObject { ["response_type"] = "ephemeral", ["replace_original"] = false, ["text"] = text };
            using var content = new StringContent(body.ToJsonString(), Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
            using var response = await clients.CreateClient(WebhookChannel.HttpClientName).PostAsync(url, content, linked.Token);
            if (!response.IsSuccessStatusCode)
            {
                LogTellFailed($"{(int)response.StatusCode} {response.ReasonPhrase}");
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or ObjectDisposedException)
        {
            LogTellFailed(e.Message);
        }
    }

    /// <summary>
    /// Slack's own response URLs, or the host of the channel's configured Web API (a Slack-compatible server, a test's
    /// fake): the URL comes from a signed body, but the host should not post wherever a body says.
    /// </summary>
    private static bool MayRespondTo(Uri url, NotificationChannelOptions settings) =>
        (url.Scheme == Uri.UriSchemeHttps && url.Host == "hooks.slack.com")
        || (settings.Url is { Length: > 0 } && Uri.Compare(url, SlackChannel.ApiBase(settings), UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0);

    /// <summary>The JSON in <c>payload=</c> of a form-encoded body, or null.</summary>
    private static JsonElement? Payload(byte[] body)
    {
        foreach (var pair in Encoding.UTF8.GetString(body).Split('&'))
        {
            if (pair.StartsWith("payload=", StringComparison.Ordinal))
            {
                try
                {
                    using var document = JsonDocument.Parse(Uri.UnescapeDataString(pair["payload=".Length..].Replace('+', ' ')));
                    return document.RootElement.ValueKind == JsonValueKind.Object ? document.RootElement.Clone() : null;
                }
                catch (JsonException)
                {
                    return null;
                }
            }
        }

        return null;
    }

    private static (string? RunId, int Sequence) ParseValue(string? value)
    {
        var colon = value?.LastIndexOf(':') ?? -1;
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var sequence) && sequence > 0
            ? (value![..colon], sequence)
            : (null, 0);
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private SlackInteractionAnswer Refuse(int status, string error)
    {
        // The endpoint is open, so anyone can send it garbage: a warning a minute at most, the rest at Debug.
        var now = time.GetTimestamp();
        var last = Interlocked.Read(ref _lastRejectionWarning);
        if ((last == 0 || time.GetElapsedTime(last, now) >= TimeSpan.FromMinutes(1)) && Interlocked.CompareExchange(ref _lastRejectionWarning, now, last) == last)
        {
            LogRejected(status, error);
        }
        else
        {
            LogRejectedQuietly(status, error);
        }

        return new SlackInteractionAnswer(status, new JsonObject { ["error"] = error });
    }

    private long _lastRejectionWarning;

    [LoggerMessage(EventId = 1810, Level = LogLevel.Warning, Message = "A Slack interaction was refused with {Status}: {Error} (further refusals within a minute are logged at Debug)")]
    private partial void LogRejected(int status, string error);

    [LoggerMessage(EventId = 1819, Level = LogLevel.Debug, Message = "A Slack interaction was refused with {Status}: {Error}")]
    private partial void LogRejectedQuietly(int status, string error);

    [LoggerMessage(EventId = 1820, Level = LogLevel.Error, Message = "A Slack interaction could not be checked against replays: the run store is not reachable; answered 503")]
    private partial void LogStoreAway(Exception exception);

    [LoggerMessage(EventId = 1811, Level = LogLevel.Warning, Message = "A Slack interaction was seen before (trigger {TriggerId}); the replay changes nothing")]
    private partial void LogReplayed(string? triggerId);

    [LoggerMessage(EventId = 1812, Level = LogLevel.Information, Message = "Run {RunId} step {Sequence} {Answer} from Slack by {Actor} (Slack user {SlackUser})")]
    private partial void LogAnswered(string runId, int sequence, string answer, string actor, string? slackUser);

    [LoggerMessage(EventId = 1813, Level = LogLevel.Warning, Message = "Run {RunId} step {Sequence}: the answer from Slack by {Actor} (Slack user {SlackUser}) was refused: {Reason}")]
    private partial void LogRefused(string runId, int sequence, string actor, string? slackUser, string reason);

    [LoggerMessage(EventId = 1814, Level = LogLevel.Warning, Message = "Run {RunId}: the update of the Slack message of {Channel} after an answer could not be queued: {Failure}")]
    private partial void LogRefreshFailed(string runId, string channel, string failure);

    [LoggerMessage(EventId = 1816, Level = LogLevel.Warning, Message = "A Slack answer from team {TeamId} (user {SlackUser} of team {UserTeamId}) was refused: no Slack channel with a matching TeamId verified it")]
    private partial void LogOtherTeam(string? teamId, string? userTeamId, string? slackUser);

    [LoggerMessage(EventId = 1817, Level = LogLevel.Warning, Message = "Run {RunId} step {Sequence}: an answer from Slack user {SlackUser} was refused: {Reason}")]
    private partial void LogUnmapped(string runId, int sequence, string? slackUser, string reason);

    [LoggerMessage(EventId = 1818, Level = LogLevel.Warning, Message = "A refused Slack answer could not be told to the person through its response_url: {Failure}")]
    private partial void LogTellFailed(string failure);

    [LoggerMessage(EventId = 1815, Level = LogLevel.Warning, Message = "A refused Slack answer could not be told to the person: the callback's response_url is {What}")]
    private partial void LogNoResponseUrl(string what);
}

/// <summary>What to answer a Slack callback with.</summary>
/// <param name="Status">The HTTP status.</param>
/// <param name="Body">The JSON body (Slack ignores it; it is for a person reading the request log).</param>
public sealed record SlackInteractionAnswer(int Status, JsonObject Body);
