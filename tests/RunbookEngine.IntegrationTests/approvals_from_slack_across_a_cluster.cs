using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Two hosts on one PostgreSQL database and one Slack app: the callback of a button on the message one node posted
/// reaches the other node, which answers the step, and a copy of it sent to the first node is refused as a replay.
/// </summary>
public sealed class approvals_from_slack_across_a_cluster : IAsyncLifetime
{
    private readonly string _token = $"xoxb-{Guid.NewGuid():N}";
    private readonly List<HostWorkspace> _nodes = [];
    private FakeSlackApi _slack = null!;

    public async Task InitializeAsync()
    {
        _slack = FakeSlackApi.Start(_token);
        _nodes.AddRange(await HostWorkspace.StartClusterAsync(nameof(approvals_from_slack_across_a_cluster), 2, settings: approvals_from_slack.Settings(_slack, _token)));
    }

    public async Task DisposeAsync()
    {
        await HostWorkspace.DisposeAllAsync(_nodes);
        await _slack.DisposeAsync();
    }

    [Fact]
    public async Task approves_through_the_node_the_callback_reaches_and_refuses_its_replay_on_the_other()
    {
        var (first, second) = (_nodes[0], _nodes[1]);
        var runId = await first.Http.TriggerAsync("gated", new { });
        await first.Http.WaitingStepAsync(runId, 2);
        var (ts, value) = await approvals_from_slack.ButtonsAsync(_slack, runId);
        var interaction = FakeSlackApi.Interaction("approve", value, "U0CAROL", "carol", new Uri(_slack.Address, "actions/T0TEAM/1"));
        var at = TimeProvider.System.GetUtcNow();

        var (answered, body) = await FakeSlackApi.PostInteractionAsync(second.Http, interaction, approvals_from_slack.SigningSecret, at);
        var (replayed, replayBody) = await FakeSlackApi.PostInteractionAsync(first.Http, interaction, approvals_from_slack.SigningSecret, at);
        var run = await second.Http.TerminalRunAsync(runId);

        Assert.True(answered == 200, body);
        Assert.Contains("\"answered\":\"approved\"", body, StringComparison.Ordinal);
        Assert.Equal(200, replayed);
        Assert.Contains("taken already", replayBody, StringComparison.Ordinal);
        Assert.Equal("Succeeded", run.Status());
        Assert.Equal(("Succeeded", "carol"), (run.GetProperty("steps")[1].GetProperty("status").GetString(), run.GetProperty("steps")[1].GetProperty("actor").GetString()));
        var requests = await _slack.UntilAsync(
            r => r.Any(x => x.Ok && x.Is("chat.update") && x.Body.Contains(runId, StringComparison.Ordinal) && x.Body.Contains("succeeded", StringComparison.Ordinal)),
            "the message was never updated to the run's success");
        Assert.Single(requests, x => x.Ok && x.Is("chat.postMessage") && x.Body.Contains(runId, StringComparison.Ordinal));
        Assert.All(requests.Where(x => x.Ok && x.Is("chat.update")), u => Assert.Equal(ts, u.Ts));
    }
}
