using System.Text;
using RunbookEngine.Notifications;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Notifications;

public sealed class SlackSigningTests
{
    // The worked example of Slack's "Verifying requests from Slack" page: its secret, timestamp, slash-command body and signature.
    private const string Secret = "8f742231b10e8888abcd99yyyzzz85a5";
    private const string Timestamp = "1531420618";
    private const string Body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    private const string Signature = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    [Fact]
    public void Sign_MatchesSlacksDocumentedExample() =>
        Assert.Equal(Signature, SlackInteractions.Sign(Secret, Timestamp, Encoding.UTF8.GetBytes(Body)));

    [Fact]
    public void Sign_OfTheTestsFake_MatchesSlacksDocumentedExample_SoTheIntegrationTestsSignAsSlackDoes() =>
        Assert.Equal(Signature, FakeSlackApi.Sign(Secret, Timestamp, Body));

    [Fact]
    public void Sign_ChangesWithTheTimestamp() =>
        Assert.NotEqual(Signature, SlackInteractions.Sign(Secret, "1531420619", Encoding.UTF8.GetBytes(Body)));

    [Fact]
    public async Task HandleAsync_WithTheStoreAway_Answers503SayingNothingWasRecorded()
    {
        // A PostgreSQL port where nothing listens: a socket bound, never listening, so connects are refused.
        using var closed = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        closed.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        var port = ((System.Net.IPEndPoint)closed.LocalEndPoint!).Port;
        await using var store = RunbookEngine.Storage.SqlRunStore.Postgres($"Host=127.0.0.1;Port={port};Username=x;Password=x;Database=x;Timeout=2", TimeProvider.System);
        var options = new RunbookEngineOptions();
        options.Notifications.Channels["ops"] = new NotificationChannelOptions { Kind = "slack", BotToken = "xoxb-1", Channel = "C0RUNBOOKS", SigningSecret = Secret };
        var interactions = new SlackInteractions(
            null!, store, null!, null!, new Monitor(options), TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<SlackInteractions>.Instance);
        var body = FakeSlackApi.Interaction("approve", "run-1:1", "U0CAROL", "carol", new Uri("https://hooks.slack.com/actions/T0TEAM/1"));
        var timestamp = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture);

        var answer = await interactions.HandleAsync(Encoding.UTF8.GetBytes(body), timestamp, FakeSlackApi.Sign(Secret, timestamp, body), default);

        Assert.Equal(503, answer.Status);
        Assert.StartsWith("the run store is not reachable", answer.Body["error"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private sealed class Monitor(RunbookEngineOptions value) : Microsoft.Extensions.Options.IOptionsMonitor<RunbookEngineOptions>
    {
        public RunbookEngineOptions CurrentValue => value;

        public RunbookEngineOptions Get(string? name) => value;

        public IDisposable? OnChange(Action<RunbookEngineOptions, string?> listener) => null;
    }
}
