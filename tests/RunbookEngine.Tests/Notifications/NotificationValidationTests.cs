using RunbookEngine.Notifications;

namespace RunbookEngine.Tests.Notifications;

public sealed class NotificationValidationTests
{
    [Fact]
    public void Validate_AcceptsNoChannelsAndAWellFormedWebhook()
    {
        var options = new RunbookEngineOptions();
        Assert.True(new NotificationValidation().Validate(null, options).Succeeded);

        options.Notifications.Channels["hook"] = new NotificationChannelOptions { Kind = "webhook", Url = "https://example.com/hook", Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" };
        options.Notifications.Defaults["failed"] = ["hook"];
        Assert.True(new NotificationValidation().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Validate_RefusesASlackPersonMapByUserNameOrToNobody()
    {
        var options = new RunbookEngineOptions();
        options.Notifications.Channels["chat"] = new NotificationChannelOptions
        {
            Kind = "slack", BotToken = "xoxb-1", Channel = "C0123", SigningSecret = "s",
            People = { ["U0CAROL"] = "carol", ["carol.s"] = "carol", ["U0DAVE"] = " " },
        };

        var failures = new NotificationValidation().Validate(null, options).Failures!;

        Assert.Equal(
        [
            "RunbookEngine:Notifications:Channels:chat:People:carol.s must map a Slack user id (U0123ABCD, from the profile's Copy member ID) to a person's name; 'carol' under 'carol.s' does not",
            "RunbookEngine:Notifications:Channels:chat:People:U0DAVE must map a Slack user id (U0123ABCD, from the profile's Copy member ID) to a person's name; ' ' under 'U0DAVE' does not",
        ], failures);
    }

    [Fact]
    public void Validate_RefusesSlackUserNamesWithoutTheWorkspaceTheyAreTrustedIn()
    {
        var options = new RunbookEngineOptions();
        options.Notifications.Channels["chat"] = new NotificationChannelOptions { Kind = "slack", BotToken = "xoxb-1", Channel = "C0123", SigningSecret = "s", MapUserNames = true };
        options.Notifications.Channels["other"] = new NotificationChannelOptions { Kind = "slack", BotToken = "xoxb-1", Channel = "C0123", SigningSecret = "s", TeamId = "example" };
        options.Notifications.Channels["fine"] = new NotificationChannelOptions { Kind = "slack", BotToken = "xoxb-1", Channel = "C0123", SigningSecret = "s", TeamId = "T0TEAM", MapUserNames = true };

        var failures = new NotificationValidation().Validate(null, options).Failures!;

        Assert.Equal(
        [
            "RunbookEngine:Notifications:Channels:chat:MapUserNames needs RunbookEngine:Notifications:Channels:chat:TeamId (the workspace's T0123ABCD): without it a user of any workspace the app reaches, named like one of your people, would answer as them",
            "RunbookEngine:Notifications:Channels:other:TeamId must be the workspace's team id (T0123ABCD, from the workspace's URL or auth.test), not 'example'",
        ], failures);
    }

    [Fact]
    public void Validate_NamesEachSettingThatCouldNeverDeliver()
    {
        var options = new RunbookEngineOptions();
        options.Notifications.Channels["hook"] = new NotificationChannelOptions { Kind = "webhook", Url = "ftp://x", Secret = "hunter2" };
        options.Notifications.Channels["chat"] = new NotificationChannelOptions { Kind = "slack" };
        options.Notifications.Channels["pager"] = new NotificationChannelOptions { Kind = "pigeon" };
        options.Notifications.Defaults["failing"] = ["hook"];
        options.Notifications.Defaults["failed"] = ["oncall"];

        var failures = new NotificationValidation().Validate(null, options).Failures!;

        Assert.Equal(
        [
            "RunbookEngine:Notifications:Channels:hook:Url must be an absolute http(s) URL",
            "RunbookEngine:Notifications:Channels:hook:Secret must be whsec_ and base64 (whsec_$(openssl rand -base64 32)); receivers verify the signature with it",
            "RunbookEngine:Notifications:Channels:chat:BotToken must be set: the Slack app's bot token (xoxb-...) with the chat:write scope",
            "RunbookEngine:Notifications:Channels:chat:Channel must be set: the Slack channel's id (C0123456789), from its details",
            "RunbookEngine:Notifications:Channels:pager:Kind must be webhook, slack, teams or email",
            "RunbookEngine:Notifications:Defaults:failing is not an event; use failed, timed_out, waiting, succeeded, breaker_opened, catalog_broken, incident_opened, incident_closed",
            "RunbookEngine:Notifications:Defaults:failed names channel 'oncall', which is not configured under RunbookEngine:Notifications:Channels",
        ], failures);
    }
}
