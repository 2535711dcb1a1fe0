using System.Globalization;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A host posting runs to Slack through a fake of its Web API: one message per run, posted then updated, step results in
/// its thread, and Approve and Reject buttons whose callbacks, signed as Slack signs them, answer the waiting step under
/// the same roles and four-eyes rule as the API. Forged, stale and replayed callbacks change nothing.
/// </summary>
public sealed class approvals_from_slack : IAsyncLifetime
{
    internal const string SigningSecret = "8f742231b10e8888abcd99yyyzzz85a5";

    // A second app's secret, for a channel that opted in to answering unmapped users by their Slack user name.
    internal const string NamesSecret = "4c1e9b0d27aa41f3b6e85d0c9f3a7e21";

    private const string FourEyes = """
        // ---
        // description: Someone other than who started it must say yes
        // ---
        await Step("prepare", ct => Task.CompletedTask);
        await Approve("Ship it?", differentPerson: true);
        await Step("ship", ct => Task.CompletedTask);
        """;

    private readonly string _token = $"xoxb-{Guid.NewGuid():N}";
    private FakeSlackApi _slack = null!;
    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync()
    {
        _slack = FakeSlackApi.Start(_token);
        _workspace = await HostWorkspace.StartAsync(Settings(_slack, _token), new Dictionary<string, string> { ["four-eyes"] = FourEyes });
    }

    public async Task DisposeAsync()
    {
        await _workspace.DisposeAsync();
        await _slack.DisposeAsync();
    }

    /// <summary>One Slack channel, <c>ops</c>, told of every run event, with Slack users mapped to people and a lead role.</summary>
    internal static Dictionary<string, string> Settings(FakeSlackApi slack, string token) => new()
    {
        ["RunbookEngine__Notifications__Channels__ops__Kind"] = "slack",
        ["RunbookEngine__Notifications__Channels__ops__Url"] = slack.Address.ToString(),
        ["RunbookEngine__Notifications__Channels__ops__BotToken"] = token,
        ["RunbookEngine__Notifications__Channels__ops__Channel"] = "C0RUNBOOKS",
        ["RunbookEngine__Notifications__Channels__ops__SigningSecret"] = SigningSecret,
        ["RunbookEngine__Notifications__Channels__ops__People__U0CAROL"] = "carol",
        ["RunbookEngine__Notifications__Channels__ops__People__U0DAVE"] = "dave",
        ["RunbookEngine__Notifications__Channels__ops__TeamId"] = "T0TEAM",
        ["RunbookEngine__Notifications__Channels__by-name__Kind"] = "slack",
        ["RunbookEngine__Notifications__Channels__by-name__Url"] = slack.Address.ToString(),
        ["RunbookEngine__Notifications__Channels__by-name__BotToken"] = token,
        ["RunbookEngine__Notifications__Channels__by-name__Channel"] = "C0BYNAME",
        ["RunbookEngine__Notifications__Channels__by-name__SigningSecret"] = NamesSecret,
        ["RunbookEngine__Notifications__Channels__by-name__TeamId"] = "T0TEAM",
        ["RunbookEngine__Notifications__Channels__by-name__MapUserNames"] = "true",
        ["RunbookEngine__Notifications__Defaults__waiting__0"] = "ops",
        ["RunbookEngine__Notifications__Defaults__succeeded__0"] = "ops",
        ["RunbookEngine__Notifications__Defaults__failed__0"] = "ops",
        ["RunbookEngine__Notifications__FirstBackoff"] = "00:00:00.200",
        ["RunbookEngine__Notifications__MaxBackoff"] = "00:00:01",
        ["RunbookEngine__Notifications__PollInterval"] = "00:00:00.100",
        ["RunbookEngine__Roles__lead__0"] = "carol",
    };

    /// <summary>The first message posted for a run, once it carries the buttons: its ts and the buttons' value.</summary>
    internal static async Task<(string Ts, string Value)> ButtonsAsync(FakeSlackApi slack, string runId)
    {
        var requests = await slack.UntilAsync(r => r.Any(x => x.Ok && x.Is("chat.postMessage") && x.Body.Contains(runId, StringComparison.Ordinal) && x.Body.Contains("\"actions\"", StringComparison.Ordinal)), $"no message with buttons for run {runId}");
        var posted = requests.First(x => x.Ok && x.Is("chat.postMessage") && x.Body.Contains(runId, StringComparison.Ordinal));
        var post = posted.Json;
        var buttons = post.GetProperty("blocks").EnumerateArray().Single(b => b.GetProperty("type").GetString() == "actions").GetProperty("elements").EnumerateArray().ToList();
        Assert.Equal(["approve", "reject"], buttons.Select(b => b.GetProperty("action_id").GetString()));
        Assert.Equal(("C0RUNBOOKS", $"Bearer {slack.Token}"), (post.GetProperty("channel").GetString(), posted.Authorization));
        return (posted.Ts!, buttons[0].GetProperty("value").GetString()!);
    }

    private Uri ResponseUrl => new(_slack.Address, $"actions/T0TEAM/{Guid.NewGuid():N}");

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    [Fact]
    public async Task approves_a_waiting_run_from_a_signed_interaction_and_the_run_finishes_in_one_message_with_its_steps_in_the_thread()
    {
        var runId = await Http.TriggerAsync("approval", new { });
        await Http.WaitingStepAsync(runId, 1);
        var (ts, value) = await ButtonsAsync(_slack, runId);

        var (status, body) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0CAROL", "carol.s", ResponseUrl), SigningSecret, Now);
        var run = await Http.TerminalRunAsync(runId);

        Assert.True(status == 200, body);
        Assert.Equal("Succeeded", run.Status());
        var approval = run.GetProperty("steps")[0];
        Assert.Equal(("Succeeded", "carol"), (approval.GetProperty("status").GetString(), approval.GetProperty("actor").GetString()));

        // One message for the run: posted once, then updated in place to say who answered and that it succeeded.
        var requests = await _slack.UntilAsync(
            r => r.Any(x => x.Is("chat.update") && x.Body.Contains("succeeded", StringComparison.Ordinal) && x.Body.Contains(runId, StringComparison.Ordinal))
                && r.Any(x => x.Is("chat.postMessage") && x.Body.Contains("\"thread_ts\"", StringComparison.Ordinal) && x.Body.Contains("proceed", StringComparison.Ordinal)),
            "the message was never updated to the run's success, or its thread never got the steps");
        var ofRun = requests.Where(x => x.Ok && x.Body.Contains(runId, StringComparison.Ordinal)).ToList();
        Assert.Single(ofRun, x => x.Is("chat.postMessage"));
        Assert.All(ofRun.Where(x => x.Is("chat.update")), u => Assert.Equal(("C0RUNBOOKS", ts), (u.Json.GetProperty("channel").GetString(), u.Json.GetProperty("ts").GetString())));
        var final = ofRun.Last(x => x.Is("chat.update")).Json;
        Assert.Contains("approved by carol", final.GetProperty("blocks")[0].GetProperty("text").GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(final.GetProperty("blocks").EnumerateArray(), b => b.GetProperty("type").GetString() == "actions");
        var thread = requests.Where(x => x.Is("chat.postMessage") && x.Body.Contains("\"thread_ts\"", StringComparison.Ordinal)).Select(x => x.Json).ToList();
        Assert.All(thread, t => Assert.Equal(ts, t.GetProperty("thread_ts").GetString()));
        var lines = string.Join('\n', thread.Select(t => t.GetProperty("text").GetString()));
        Assert.Contains("1. Approve: Proceed?: Succeeded by carol", lines, StringComparison.Ordinal);
        Assert.Contains("2. proceed: Succeeded", lines, StringComparison.Ordinal);
        Assert.Single(thread, t => t.GetProperty("text").GetString()!.Contains("2. proceed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task refuses_forged_stale_and_replayed_interactions_and_the_step_waits_on()
    {
        var runId = await Http.TriggerAsync("approval", new { });
        await Http.WaitingStepAsync(runId, 1);
        var (_, value) = await ButtonsAsync(_slack, runId);
        var reject = FakeSlackApi.Interaction("reject", value, "U0CAROL", "carol", ResponseUrl);

        var forged = await FakeSlackApi.PostInteractionAsync(Http, reject, "not-the-secret", Now);
        var tampered = await FakeSlackApi.PostInteractionAsync(Http, reject, SigningSecret, Now, FakeSlackApi.Sign(SigningSecret, Now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), reject.Replace("reject", "approve", StringComparison.Ordinal)));
        var stale = await FakeSlackApi.PostInteractionAsync(Http, reject, SigningSecret, Now.AddMinutes(-6));
        var unsigned = await Http.PostAsync(new Uri("/hooks/slack/interactions", UriKind.Relative), new StringContent(reject, System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"));
        await Http.WaitingStepAsync(runId, 1);

        Assert.Equal((401, 401, 401, 401), (forged.Status, tampered.Status, stale.Status, (int)unsigned.StatusCode));
        Assert.Contains("does not match", forged.Body, StringComparison.Ordinal);
        Assert.Contains("more than 5 minutes", stale.Body, StringComparison.Ordinal);

        // Another click by the same person is a new trigger; a copy of a click already taken is not.
        var approve = FakeSlackApi.Interaction("approve", value, "U0CAROL", "carol", ResponseUrl, triggerId: "1234.5678.abcdef");
        var at = Now;
        var first = await FakeSlackApi.PostInteractionAsync(Http, approve, SigningSecret, at);
        var replayed = await FakeSlackApi.PostInteractionAsync(Http, approve, SigningSecret, at);
        var resigned = await FakeSlackApi.PostInteractionAsync(Http, approve, SigningSecret, at.AddSeconds(1));

        Assert.Equal((200, 200, 200), (first.Status, replayed.Status, resigned.Status));
        Assert.Contains("\"answered\":\"approved\"", first.Body, StringComparison.Ordinal);
        Assert.Contains("taken already", replayed.Body, StringComparison.Ordinal);
        Assert.Contains("taken already", resigned.Body, StringComparison.Ordinal);
        Assert.Equal("Succeeded", (await Http.TerminalRunAsync(runId)).Status());
        Assert.Contains("Slack interaction was refused with 401", _workspace.Host.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task refuses_a_user_without_the_role_and_tells_them_why_in_an_ephemeral_message()
    {
        var runId = await Http.TriggerAsync("gated", new { });
        await Http.WaitingStepAsync(runId, 2);
        var (_, value) = await ButtonsAsync(_slack, runId);
        var responseUrl = ResponseUrl;

        var (status, body) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0DAVE", "dave", responseUrl), SigningSecret, Now);
        var told = await _slack.UntilAsync(r => r.Any(x => x.Path == responseUrl.AbsolutePath), "the person was never told why");
        await Http.WaitingStepAsync(runId, 2);

        Assert.Equal(200, status);
        Assert.Contains("\"problem\":\"Forbidden\"", body, StringComparison.Ordinal);
        var ephemeral = told.Single(x => x.Path == responseUrl.AbsolutePath).Json;
        Assert.Equal(("ephemeral", false), (ephemeral.GetProperty("response_type").GetString(), ephemeral.GetProperty("replace_original").GetBoolean()));
        Assert.Contains("needs someone with role 'lead'; dave does not hold it", ephemeral.GetProperty("text").GetString(), StringComparison.Ordinal);

        // A Slack user not mapped is refused even under a name with the role; carol (mapped from U0CAROL) holds it.
        var (asName, _) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0STRANGER", "carol-impostor", ResponseUrl), SigningSecret, Now);
        await Http.WaitingStepAsync(runId, 2);
        var (byCarol, _) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0CAROL", "whatever", ResponseUrl), SigningSecret, Now);
        Assert.Equal((200, 200), (asName, byCarol));
        Assert.Equal("Succeeded", (await Http.TerminalRunAsync(runId)).Status());
    }

    [Fact]
    public async Task refuses_an_unmapped_user_named_like_a_person_and_a_user_of_another_workspace_and_takes_user_names_only_where_a_channel_opted_in()
    {
        var runId = await Http.TriggerAsync("gated", new { });
        await Http.WaitingStepAsync(runId, 2);
        var (_, value) = await ButtonsAsync(_slack, runId);
        var responseUrl = ResponseUrl;

        // Anyone can call themselves carol in Slack; without a People entry that proves nothing.
        var (named, namedBody) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0STRANGER", "carol", responseUrl), SigningSecret, Now);
        var told = await _slack.UntilAsync(r => r.Any(x => x.Path == responseUrl.AbsolutePath), "the unmapped user was never told why");
        var (foreign, foreignBody) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0CAROL", "carol", ResponseUrl, team: "T0OTHER"), SigningSecret, Now);
        await Http.WaitingStepAsync(runId, 2);

        Assert.Equal((200, 200), (named, foreign));
        Assert.Contains("Slack user U0STRANGER is not mapped", namedBody, StringComparison.Ordinal);
        Assert.Contains("People:U0STRANGER=NAME", told.Single(x => x.Path == responseUrl.AbsolutePath).Json.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("team T0OTHER", foreignBody, StringComparison.Ordinal);

        // The channel that opted in with MapUserNames (and names its workspace) takes the user name.
        var (optedIn, optedInBody) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0STRANGER", "carol", ResponseUrl), NamesSecret, Now);
        var run = await Http.TerminalRunAsync(runId);
        Assert.True(optedIn == 200, optedInBody);
        Assert.Equal(("Succeeded", "carol"), (run.Status(), run.GetProperty("steps")[1].GetProperty("actor").GetString()));
    }

    [Fact]
    public async Task holds_four_eyes_the_person_who_started_the_run_cannot_approve_it_from_slack()
    {
        var (triggered, started) = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/four-eyes/runs", new { parameters = new { }, by = "carol" });
        Assert.Equal(202, triggered);
        var runId = started.GetProperty("runId").GetString()!;
        await Http.WaitingStepAsync(runId, 2);
        var (_, value) = await ButtonsAsync(_slack, runId);

        var (own, ownBody) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0CAROL", "carol", ResponseUrl), SigningSecret, Now);
        await Http.WaitingStepAsync(runId, 2);
        var (other, _) = await FakeSlackApi.PostInteractionAsync(Http, FakeSlackApi.Interaction("approve", value, "U0DAVE", "dave", ResponseUrl), SigningSecret, Now);
        var run = await Http.TerminalRunAsync(runId);

        Assert.Equal((200, 200), (own, other));
        Assert.Contains("needs someone other than carol", ownBody, StringComparison.Ordinal);
        Assert.Equal(("Succeeded", "dave"), (run.Status(), run.GetProperty("steps")[1].GetProperty("actor").GetString()));
    }

    [Fact]
    public async Task keeps_the_bot_token_and_signing_secret_out_of_the_log_and_every_answer()
    {
        _slack.RateLimitNext = 1;
        _slack.FailWith = null;
        var runId = await Http.TriggerAsync("approval", new { });
        await Http.WaitingStepAsync(runId, 1);
        await ButtonsAsync(_slack, runId);

        var seen = new Dictionary<string, string> { ["the host's log"] = _workspace.Host.Log };
        foreach (var path in new[] { "/readyz", "/healthz", "/api/notifications", "/notifications", $"/api/runs/{runId}", $"/runs/{runId}" })
        {
            using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
            seen[path] = await response.Content.ReadAsStringAsync();
        }

        Assert.Contains(_slack.Requests, r => r.Status == 429);
        foreach (var (where, text) in seen)
        {
            Assert.False(text.Contains(_token, StringComparison.Ordinal), $"the bot token appears in {where}");
            Assert.False(text.Contains(SigningSecret, StringComparison.Ordinal), $"the signing secret appears in {where}");
        }
    }

    [Fact]
    public async Task lists_a_delivery_slack_refused_as_failing_with_slacks_error()
    {
        _slack.FailWith = "not_in_channel";
        var runId = await Http.TriggerAsync("approval", new { });
        await Http.WaitingStepAsync(runId, 1);

        var failing = await Http.UntilAsync(
            "/api/notifications?state=failing",
            rows => rows.EnumerateArray().FirstOrDefault(r => r.GetProperty("runId").GetString() == runId) is { ValueKind: JsonValueKind.Object } row ? row : null,
            "the delivery never showed as failing");
        _slack.FailWith = null;

        Assert.Contains("ok:false, error not_in_channel (invite the app to the channel", failing.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        await ButtonsAsync(_slack, runId);
    }
}
