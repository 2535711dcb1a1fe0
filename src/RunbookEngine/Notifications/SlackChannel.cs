using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Notifications;

/// <summary>
/// Posts to Slack through the Web API with a bot token: one message per run (<c>chat.postMessage</c> the first time,
/// <c>chat.update</c> on the remembered channel and ts after), so the message changes as the run moves on, and each
/// finished step as a reply in its thread. A run waiting for a person gets Approve and Reject buttons, answered at
/// <c>/hooks/slack/interactions</c>.
/// </summary>
/// <remarks>
/// Slack answers HTTP 200 with <c>{"ok":false,"error":"..."}</c> for most failures, so <c>ok</c> decides, not the status;
/// 429 carries <c>Retry-After</c>, which the next attempt waits for. The message ref is saved right after the post: a
/// node that dies between Slack's answer and that save posts a second message on the next attempt, the one window
/// Slack's API (no idempotency key on <c>chat.postMessage</c>) leaves open; so does a run's first two events delivered by
/// two nodes in the same instant, before either saved its ref.
/// </remarks>
internal sealed class SlackChannel(IHttpClientFactory clients, INotificationStore store, IRunStore runs) : INotificationChannel
{
    /// <summary>Slack's Web API, when the channel names no other.</summary>
    public const string DefaultApi = "https://slack.com/api/";

    /// <summary>The buttons' action ids.</summary>
    public const string ApproveAction = "approve", RejectAction = "reject";

    /// <summary>The outbox event of a message's update after an answer from Slack; not one a runbook routes.</summary>
    public const string AnsweredEvent = "answered";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <inheritdoc />
    public string Kind => "slack";

    /// <inheritdoc />
    public async Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(settings);
        if (message.Run is not { } run)
        {
            // Not about a run (a breaker, the catalog): nothing to update later, so a message of its own.
            await CallAsync(settings, "chat.postMessage", Body(settings.Channel!, null, message.Title, Blocks(message.Title, message.Text, null)), cancellationToken);
            return;
        }

        var steps = await runs.GetStepsAsync(run.Id, cancellationToken);
        var posted = SlackMessageRef.Parse(await store.NotificationMessageAsync(run.Id, channel, cancellationToken));
        posted = await ShowAsync(run, steps, message.Link, channel, settings, posted, cancellationToken);

        // The thread gets the steps that ended since the last reply, in order, up to the first one still open.
        var ended = steps.Where(s => s.Sequence > posted.Thread).OrderBy(s => s.Sequence).TakeWhile(s => s.Status is not (StepStatus.Running or StepStatus.WaitingForHuman)).ToList();
        if (ended.Count > 0)
        {
            var text = string.Join('\n', ended.Select(StepLine));
            await CallAsync(settings, "chat.postMessage", new JsonObject { ["channel"] = posted.Channel, ["thread_ts"] = posted.Ts, ["text"] = text }, cancellationToken);
            await store.SaveNotificationMessageAsync(run.Id, channel, (posted with { Thread = ended[^1].Sequence }).ToString(), cancellationToken);
        }
    }

    /// <summary>Posts the run's message, or updates the one posted before; the reference to it.</summary>
    private async Task<SlackMessageRef> ShowAsync(
        RunRecord run, IReadOnlyList<StepOutcome> steps, Uri? link, string channel, NotificationChannelOptions settings, SlackMessageRef posted, CancellationToken cancellationToken)
    {
        var title = Title(run);
        var waiting = run.Status == RunStatus.WaitingForHuman ? steps.LastOrDefault(s => s.Status == StepStatus.WaitingForHuman) : null;
        var blocks = Blocks(title, Text(run, steps, waiting, link), settings.SigningSecret is { Length: > 0 } ? waiting : null, run.Id);
        if (posted.Ts.Length > 0)
        {
            await CallAsync(settings, "chat.update", Body(posted.Channel, posted.Ts, title, blocks), cancellationToken);
            return posted;
        }

        var answer = await CallAsync(settings, "chat.postMessage", Body(settings.Channel!, null, title, blocks), cancellationToken);
        if (!answer.TryGetProperty("ts", out var ts) || ts.ValueKind != JsonValueKind.String)
        {
            throw new NotificationDeliveryException("Slack's chat.postMessage answered ok:true without the message's ts, so it could not be updated later");
        }

        var created = new SlackMessageRef(answer.TryGetProperty("channel", out var id) && id.ValueKind == JsonValueKind.String ? id.GetString()! : settings.Channel!, ts.GetString()!, 0);
        await store.SaveNotificationMessageAsync(run.Id, channel, created.ToString(), cancellationToken);
        return created;
    }

    /// <summary>Calls a Web API method; the answer when <c>ok</c> is true, else throws with Slack's error.</summary>
    private async Task<JsonElement> CallAsync(NotificationChannelOptions settings, string method, JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(ApiBase(settings), method))
        {
            Content = new StringContent(body.ToJsonString(Json), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.BotToken);
        using var response = await clients.CreateClient(WebhookChannel.HttpClientName).SendAsync(request, cancellationToken);
        if (response.StatusCode == HttpStatusCode.TooManyRequests)
        {
            var after = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(30);
            throw new NotificationDeliveryException($"Slack's {method} answered 429 ratelimited; retry after {after.TotalSeconds:0} s") { RetryAfter = after };
        }

        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        JsonElement answer;
        try
        {
            answer = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new NotificationDeliveryException($"Slack's {method} answered {(int)response.StatusCode} {response.ReasonPhrase} without JSON");
        }

        if (answer.ValueKind != JsonValueKind.Object || !answer.TryGetProperty("ok", out var ok) || ok.ValueKind != JsonValueKind.True)
        {
            var error = answer.ValueKind == JsonValueKind.Object && answer.TryGetProperty("error", out var e) ? e.ToString() : "no error given";
            throw new NotificationDeliveryException($"Slack's {method} answered {(int)response.StatusCode} ok:false, error {error}{Hint(error)}");
        }

        return answer;
    }

    /// <summary>The Web API's base with a trailing slash, so method names resolve under it.</summary>
    internal static Uri ApiBase(NotificationChannelOptions settings) => new((settings.Url is { Length: > 0 } url ? url.TrimEnd('/') + "/" : DefaultApi), UriKind.Absolute);

    // Slack's error codes are terse; these are the ones a person setting up the app meets first.
    private static string Hint(string error) => error switch
    {
        "not_in_channel" => " (invite the app to the channel: /invite @app)",
        "channel_not_found" => " (Channel must be the channel's id, C0123456789, and the app must see it)",
        "invalid_auth" or "not_authed" or "token_revoked" => " (BotToken is wrong or revoked: the xoxb- token from OAuth & Permissions)",
        "missing_scope" => " (the app needs the chat:write bot scope; reinstall it after adding the scope)",
        _ => "",
    };

    private static JsonObject Body(string channel, string? ts, string text, JsonArray blocks)
    {
        var body = new JsonObject { ["channel"] = channel };
        if (ts is not null)
        {
            body["ts"] = ts;
        }

        // text is the notification's fallback (and what screen readers say) when blocks are given.
        body["text"] = text;
        body["blocks"] = blocks;
        return body;
    }

    /// <summary>The run's status as the message's first line.</summary>
    internal static string Title(RunRecord run) => run.Status switch
    {
        RunStatus.Failed => $"Run of {run.Runbook} failed",
        RunStatus.TimedOut => $"Run of {run.Runbook} timed out",
        RunStatus.WaitingForHuman => $"Run of {run.Runbook} waits for a person",
        RunStatus.Succeeded => $"Run of {run.Runbook} succeeded",
        RunStatus.Cancelled => $"Run of {run.Runbook} was cancelled",
        _ => $"Run of {run.Runbook} is {run.Status}",
    };

    private static string Text(RunRecord run, IReadOnlyList<StepOutcome> steps, StepOutcome? waiting, Uri? link)
    {
        var lines = new List<string> { $"Run {run.Id} ({run.Trigger} by {run.TriggeredBy}) is {run.Status}." };
        foreach (var answered in steps.Where(s => s.Kind != StepKind.Automated && s.Status is StepStatus.Succeeded or StepStatus.Failed && s.Actor.Length > 0))
        {
            var verb = answered.Status == StepStatus.Succeeded ? answered.Kind == StepKind.Approval ? "approved" : "done" : answered.Kind == StepKind.Approval ? "rejected" : "not done";
            lines.Add($"Step {answered.Sequence} ({answered.Name}) {verb} by {answered.Actor}.");
        }

        if (waiting is not null)
        {
            lines.Add($"Step {waiting.Sequence} asks: {waiting.Name}{(waiting.Role is { Length: > 0 } role ? $" (role {role})" : "")}");
        }

        if (run.Error is { Length: > 0 } error)
        {
            lines.Add(error);
        }

        if (link is not null)
        {
            lines.Add(link.ToString());
        }

        return string.Join('\n', lines);
    }

    private static JsonArray Blocks(string title, string text, StepOutcome? buttonsFor, string? runId = null)
    {
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "section", ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = $"*{Escape(title)}*\n{Escape(text)}" } },
        };
        if (buttonsFor is not null && runId is not null)
        {
            var approval = buttonsFor.Kind == StepKind.Approval;
            var value = ButtonValue(runId, buttonsFor.Sequence);
            blocks.Add(new JsonObject
            {
                ["type"] = "actions",
                ["block_id"] = "runbook-answer",
                ["elements"] = new JsonArray
                {
                    Button(approval ? "Approve" : "Done", ApproveAction, value, "primary"),
                    Button(approval ? "Reject" : "Not done", RejectAction, value, "danger"),
                },
            });
        }

        return blocks;
    }

    private static JsonObject Button(string label, string action, string value, string style) => new()
    {
        ["type"] = "button",
        ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = label },
        ["action_id"] = action,
        ["value"] = value,
        ["style"] = style,
    };

    /// <summary>What a button carries: the run and the step it answers (<c>RUN:SEQUENCE</c>).</summary>
    internal static string ButtonValue(string runId, int sequence) => $"{runId}:{sequence.ToString(CultureInfo.InvariantCulture)}";

    private static string StepLine(StepOutcome step)
    {
        var took = step.FinishedAt is { } finished ? $" in {(finished - step.StartedAt).TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s" : "";
        var mark = step.Status == StepStatus.Succeeded ? "✓" : step.Status == StepStatus.Skipped ? "–" : "✗";
        var who = step.Kind != StepKind.Automated && step.Actor.Length > 0 ? $" by {Escape(step.Actor)}" : "";
        return $"{mark} {step.Sequence}. {Escape(step.Name)}: {step.Status}{who}{took}{(step.Error is { Length: > 0 } e ? " — " + Escape(e) : "")}";
    }

    /// <summary>Slack's mrkdwn escapes: only these three are control characters.</summary>
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}

/// <summary>The Slack message a run was posted as: its channel and ts, and the last step replied in its thread.</summary>
/// <param name="Channel">The channel id Slack answered.</param>
/// <param name="Ts">The message's ts; empty when none was posted.</param>
/// <param name="Thread">The sequence of the last step posted in the thread; 0 for none.</param>
internal sealed record SlackMessageRef(string Channel, string Ts, int Thread)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static SlackMessageRef Parse(string? stored)
    {
        if (stored is null)
        {
            return new SlackMessageRef("", "", 0);
        }

        try
        {
            return JsonSerializer.Deserialize<SlackMessageRef>(stored, Json) ?? new SlackMessageRef("", "", 0);
        }
        catch (JsonException)
        {
            // Not one of ours: post afresh rather than fail every delivery of the run.
            return new SlackMessageRef("", "", 0);
        }
    }

    public override string ToString() => JsonSerializer.Serialize(this, Json);
}
