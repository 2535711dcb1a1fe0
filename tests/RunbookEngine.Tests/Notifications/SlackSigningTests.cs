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
}
