using RunbookEngine.Notifications;

namespace RunbookEngine.Tests.Notifications;

public sealed class WebhookSigningTests
{
    [Fact]
    public void Sign_MatchesTheSpecificationsTestVector()
    {
        // The test vector of the Standard Webhooks specification (and of Svix's libraries), checked by hand with Python's hmac.
        var signature = WebhookChannel.Sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            DateTimeOffset.FromUnixTimeSeconds(1614265330),
            """{"test": 2432232314}""");

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(4, 40)]
    [InlineData(10, 600)]
    public void Backoff_DoublesFromTheFirstAndStopsAtTheMost(int attempts, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), NotificationDelivery.Backoff(attempts, new NotificationOptions()));
}
