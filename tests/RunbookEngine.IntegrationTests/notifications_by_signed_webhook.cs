using System.Text.Json;
using Microsoft.AspNetCore.Http;
using RunbookEngine.TestSupport;
using StandardWebhooks;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A host telling a webhook receiver about runs from the outbox: signed per Standard Webhooks and verified by the
/// StandardWebhooks library, routed by a runbook's <c>notify:</c> and by the configured defaults, and delivered after
/// the receiver comes back.
/// </summary>
public sealed class notifications_by_signed_webhook : IAsyncLifetime
{
    private const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    private const string Doomed = """
        // ---
        // description: Fails on purpose and tells the hook
        // notify:
        //   failed: [hook, team]
        //   timed_out: [mail]
        // parameters:
        //   hang: { type: bool, default: false }
        // timeout: 2s
        // ---
        if (Params.Get<bool>("hang")) { await Step("hang", ct => Task.Delay(Timeout.Infinite, ct)); }
        await Step("break", ct => throw new InvalidOperationException("disk still full"));
        """;

    private WebhookReceiver _receiver = null!;
    private WebhookReceiver _teams = null!;
    private SmtpSink _smtp = null!;
    private HostWorkspace _workspace = null!;

    public async Task InitializeAsync()
    {
        _receiver = WebhookReceiver.Start();
        _teams = WebhookReceiver.Start();
        _smtp = SmtpSink.Start();
        _workspace = await HostWorkspace.StartAsync(
            new Dictionary<string, string>
            {
                ["RunbookEngine__Notifications__Channels__hook__Kind"] = "webhook",
                ["RunbookEngine__Notifications__Channels__hook__Url"] = new Uri(_receiver.Address, "hooks/runbooks").ToString(),
                ["RunbookEngine__Notifications__Channels__hook__Secret"] = Secret,
                ["RunbookEngine__Notifications__Defaults__waiting__0"] = "hook",
                ["RunbookEngine__Notifications__Defaults__catalog_broken__0"] = "hook",
                ["RunbookEngine__Notifications__Channels__mail__Kind"] = "email",
                ["RunbookEngine__Notifications__Channels__mail__SmtpHost"] = "127.0.0.1",
                ["RunbookEngine__Notifications__Channels__mail__SmtpPort"] = _smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["RunbookEngine__Notifications__Channels__mail__SmtpSecurity"] = "none",
                ["RunbookEngine__Notifications__Channels__mail__From"] = "runbooks@example.com",
                ["RunbookEngine__Notifications__Channels__mail__To__0"] = "oncall@example.com",
                ["RunbookEngine__Notifications__Channels__mail__To__1"] = "lead@example.com",
                ["RunbookEngine__Notifications__Channels__team__Kind"] = "teams",
                ["RunbookEngine__Notifications__Channels__team__Url"] = new Uri(_teams.Address, "workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t").ToString(),
                ["RunbookEngine__Notifications__FirstBackoff"] = "00:00:00.200",
                ["RunbookEngine__Notifications__MaxBackoff"] = "00:00:00.500",
                ["RunbookEngine__Notifications__DashboardUrl"] = "https://runbooks.example.com",
            },
            new Dictionary<string, string> { ["doomed"] = Doomed });
    }

    public async Task DisposeAsync()
    {
        await _workspace.DisposeAsync();
        await _receiver.DisposeAsync();
        await _teams.DisposeAsync();
        await _smtp.DisposeAsync();
    }

    [Fact]
    public async Task posts_a_failed_run_once_signed_so_a_standard_webhooks_library_verifies_it()
    {
        var runId = await _workspace.Http.TriggerAsync("doomed", new { });
        Assert.Equal("Failed", (await _workspace.Http.TerminalRunAsync(runId)).Status());

        var request = Assert.Single(await _receiver.UntilReceivedAsync(1));
        var headers = new HeaderDictionary();
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }

        new StandardWebhook(Secret).Verify(request.Body, headers);
        Assert.Equal(("POST", "/hooks/runbooks"), (request.Method, request.Path));
        Assert.Throws<StandardWebhooks.Diagnostics.WebhookVerificationException>(() => new StandardWebhook(Secret).Verify(request.Body.Replace("doomed", "benign", StringComparison.Ordinal), headers));
        using var body = JsonDocument.Parse(request.Body);
        var data = body.RootElement.GetProperty("data");
        Assert.Equal("runbook.failed", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(("failed", "doomed", runId, "Failed"), (data.GetProperty("event").GetString(), data.GetProperty("runbook").GetString(), data.GetProperty("runId").GetString(), data.GetProperty("status").GetString()));
        Assert.Contains("disk still full", data.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal($"https://runbooks.example.com/runs/{runId}", data.GetProperty("link").GetString());
        var (status, delivered) = await _workspace.Http.SendAsync(HttpMethod.Get, "/api/notifications?state=delivered");
        Assert.Equal(200, status);
        var row = Assert.Single(delivered.EnumerateArray(), r => r.GetProperty("channel").GetString() == "hook");
        Assert.Equal((request.Headers["webhook-id"], "hook", "Delivered"), (row.GetProperty("id").GetString(), row.GetProperty("channel").GetString(), row.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task tells_the_default_channel_that_a_run_waits_for_a_person_and_not_of_the_run_that_succeeded()
    {
        var succeeded = await _workspace.Http.TriggerAsync("hello", new { who = "ops" });
        Assert.Equal("Succeeded", (await _workspace.Http.TerminalRunAsync(succeeded)).Status());
        var waiting = await _workspace.Http.TriggerAsync("approval", new { });
        await _workspace.Http.WaitingStepAsync(waiting, 1);

        var request = Assert.Single(await _receiver.UntilReceivedAsync(1));
        using var body = JsonDocument.Parse(request.Body);
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(("waiting", waiting, 1), (data.GetProperty("event").GetString(), data.GetProperty("runId").GetString(), data.GetProperty("waitingStep").GetInt32()));
        Assert.Contains("Proceed?", data.GetProperty("text").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task delivers_to_a_receiver_that_was_down_once_it_is_back_and_lists_the_delivery_as_failing_meanwhile()
    {
        _receiver.Down = true;

        var runId = await _workspace.Http.TriggerAsync("doomed", new { });
        Assert.Equal("Failed", (await _workspace.Http.TerminalRunAsync(runId)).Status());
        await _receiver.UntilRefusedAsync(2);
        var failing = await _workspace.Http.UntilAsync(
            "/api/notifications?state=failing",
            rows => rows.EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } row ? row : null,
            "the delivery never showed as failing");
        Assert.Equal(("failed", "hook", "Failing"), (failing.GetProperty("event").GetString(), failing.GetProperty("channel").GetString(), failing.GetProperty("state").GetString()));
        Assert.Contains("503", failing.GetProperty("lastError").GetString(), StringComparison.Ordinal);
        var page = await _workspace.Http.GetStringAsync(new Uri("/notifications", UriKind.Relative));
        Assert.Contains($"action=\"/notifications/{failing.GetProperty("id").GetString()}/retry\"", page, StringComparison.Ordinal);

        _receiver.Down = false;
        var (retry, _) = await _workspace.Http.SendAsync(HttpMethod.Post, $"/api/notifications/{failing.GetProperty("id").GetString()}/retry");
        var request = Assert.Single(await _receiver.UntilReceivedAsync(1));

        Assert.True(retry is 200 or 404, $"retry answered {retry}"); // 404 when the backoff's own attempt won the race
        Assert.Equal(failing.GetProperty("id").GetString(), request.Headers["webhook-id"]);
        await _workspace.Http.UntilAsync(
            "/api/notifications?state=delivered",
            rows => rows.EnumerateArray().Any(r => r.GetProperty("channel").GetString() == "hook") ? rows : null,
            "the delivery never showed as delivered");
    }

    [Fact]
    public async Task tells_the_default_channel_that_a_runbook_added_to_the_folder_does_not_compile()
    {
        await File.WriteAllTextAsync(
            Path.Combine(_workspace.Root, "runbooks", "typo.csx"),
            "// ---\n// description: Has a typo\n// ---\nawait Step(\"oops\", ct => Task.FromResult(undefinedThing));\n");

        var request = Assert.Single(await _receiver.UntilReceivedAsync(1));
        using var body = JsonDocument.Parse(request.Body);
        var data = body.RootElement.GetProperty("data");
        Assert.Equal(("catalog_broken", "typo"), (data.GetProperty("event").GetString(), data.GetProperty("runbook").GetString()));
        Assert.Contains("undefinedThing", data.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task posts_a_failed_run_to_a_teams_workflow_as_an_adaptive_card_with_a_link_to_the_run()
    {
        var runId = await _workspace.Http.TriggerAsync("doomed", new { });
        Assert.Equal("Failed", (await _workspace.Http.TerminalRunAsync(runId)).Status());

        var request = Assert.Single(await _teams.UntilReceivedAsync(1));
        using var body = JsonDocument.Parse(request.Body);
        var attachment = Assert.Single(body.RootElement.GetProperty("attachments").EnumerateArray());
        var card = attachment.GetProperty("content");
        Assert.Equal(("message", "application/vnd.microsoft.card.adaptive"), (body.RootElement.GetProperty("type").GetString(), attachment.GetProperty("contentType").GetString()));
        Assert.Equal(("AdaptiveCard", "1.4"), (card.GetProperty("type").GetString(), card.GetProperty("version").GetString()));
        var texts = card.GetProperty("body").EnumerateArray().Select(b => b.GetProperty("text").GetString()).ToList();
        Assert.Equal("Run of doomed failed", texts[0]);
        Assert.Contains("disk still full", texts[1], StringComparison.Ordinal);
        var action = Assert.Single(card.GetProperty("actions").EnumerateArray());
        Assert.Equal(("Action.OpenUrl", $"https://runbooks.example.com/runs/{runId}"), (action.GetProperty("type").GetString(), action.GetProperty("url").GetString()));
        Assert.Equal("/workflows/abc/triggers/manual/paths/invoke", request.Path);
    }

    [Fact]
    public async Task delivers_once_after_the_host_is_killed_between_writing_the_event_and_delivering_it()
    {
        _receiver.Down = true;
        var runId = await _workspace.Http.TriggerAsync("doomed", new { });
        Assert.Equal("Failed", (await _workspace.Http.TerminalRunAsync(runId)).Status());
        await _receiver.UntilRefusedAsync(1);

        await _workspace.KillAndRestartAsync();
        _receiver.Down = false;

        var request = Assert.Single(await _receiver.UntilReceivedAsync(1));
        var delivered = await _workspace.Http.UntilAsync(
            "/api/notifications?state=delivered",
            rows => rows.EnumerateArray().FirstOrDefault(r => r.GetProperty("channel").GetString() == "hook") is { ValueKind: JsonValueKind.Object } row ? row : null,
            "the delivery never showed as delivered after the restart");
        Assert.Equal(delivered.GetProperty("id").GetString(), request.Headers["webhook-id"]);
        Assert.Single(_receiver.Received);
        // The Teams channel hears the same failure on its own schedule, so wait for the outbox to drain rather than catch it mid-flight.
        await _workspace.Http.UntilAsync(
            "/api/notifications?state=pending",
            rows => rows.GetArrayLength() == 0 ? rows : (JsonElement?)null,
            "a delivery stayed pending after the restart");
        Assert.Single(_receiver.Received);
    }

    [Fact]
    public async Task mails_a_timed_out_run_through_smtp_to_every_recipient()
    {
        var runId = await _workspace.Http.TriggerAsync("doomed", new { hang = true });
        Assert.Equal("TimedOut", (await _workspace.Http.TerminalRunAsync(runId)).Status());

        var mail = Assert.Single(await _smtp.UntilReceivedAsync(1));
        Assert.Equal("Run of doomed timed out", mail.Subject);
        Assert.Equal(["oncall@example.com", "lead@example.com"], mail.To.Mailboxes.Select(m => m.Address));
        Assert.Equal("runbooks@example.com", mail.From.Mailboxes.Single().Address);
        Assert.Contains($"https://runbooks.example.com/runs/{runId}", mail.TextBody, StringComparison.Ordinal);
        Assert.Empty(_receiver.Received);
    }

    [Fact]
    public async Task refuses_an_unknown_state_and_a_retry_of_nothing()
    {
        var (listed, error) = await _workspace.Http.SendAsync(HttpMethod.Get, "/api/notifications?state=stuck");
        var (retried, _) = await _workspace.Http.SendAsync(HttpMethod.Post, "/api/notifications/nope/retry");

        Assert.Equal(400, listed);
        Assert.Contains("'stuck' is not a notification state", error.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(404, retried);
    }
}
