using System.Text;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Sdk;
using RunbookEngine.TestSupport;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

/// <summary>Amazon SNS: AWS's documented messages, and a captured CloudWatch alarm carried in the documented notification.</summary>
public sealed class AwsSnsSourceTests
{
    private const string Alarm = "aws-sns/live-cloudwatch-alarm-message-redshift.json";
    private const string Notification = "aws-sns/docs-notification-hello-world.json";

    private static WebhookRequest Sns(string body) => Request(Encoding.UTF8.GetBytes(body), "text/plain; charset=UTF-8");

    private static string AlarmNotification(string? alarm = null) =>
        SnsSigner.Replace(FixtureText(Notification), ("Message", alarm ?? FixtureText(Alarm)));

    [Fact]
    public void a_cloudwatch_alarm_fires_with_its_dimensions_and_the_account_region_namespace_and_metric_as_labels()
    {
        var parsed = Single("aws-sns", Sns(AlarmNotification()));
        var alert = parsed.Alert;

        Assert.Equal(("aws-sns", "martin-test", AlertStatus.Firing), (alert.Source, alert.Name, alert.Status));
        Assert.Equal("sapi-03-seznam", alert.Label("ClusterIdentifier"));
        Assert.Equal("147946154733", alert.Label("account"));
        Assert.Equal("us-west-2", alert.Label("region"));
        Assert.Equal("AWS/Redshift", alert.Label("namespace"));
        Assert.Equal("PercentageDiskSpaceUsed", alert.Label("metric"));
        Assert.Equal("ALARM", alert.Label("alarm_state"));
        Assert.Equal("US - N. Virginia", alert.Annotation("region_name"));
        Assert.Equal("OK", alert.Annotation("old_state"));
        Assert.StartsWith("Threshold Crossed", alert.Annotation("reason"), StringComparison.Ordinal);
        Assert.Equal(Time("2015-05-26T07:49:42.541Z"), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal("22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324", alert.DeliveryId);

        // An alarm too old to send its ARN is known by topic and name, which its OK shares.
        Assert.Equal("arn:aws:sns:us-west-2:123456789012:MyTopic:alarm:martin-test", alert.Fingerprint);
    }

    [Fact]
    public void ok_resolves_the_same_fingerprint_and_an_alarm_arn_is_the_fingerprint_when_sent()
    {
        var ok = FixtureText(Alarm).Replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"OK\"", StringComparison.Ordinal);
        var resolved = Single("aws-sns", Sns(AlarmNotification(ok))).Alert;
        var fired = Single("aws-sns", Sns(AlarmNotification())).Alert;
        Assert.Equal(AlertStatus.Resolved, resolved.Status);
        Assert.Equal(fired.Fingerprint, resolved.Fingerprint);
        Assert.Equal(resolved.StartsAt, resolved.EndsAt);

        var withArn = FixtureText(Alarm).Replace("\"OldStateValue\"", "\"AlarmArn\":\"arn:aws:cloudwatch:us-east-1:147946154733:alarm:martin-test\",\"OldStateValue\"", StringComparison.Ordinal);
        var alert = Single("aws-sns", Sns(AlarmNotification(withArn))).Alert;
        Assert.Equal("arn:aws:cloudwatch:us-east-1:147946154733:alarm:martin-test", alert.Fingerprint);
        Assert.Equal("us-east-1", alert.Label("region"));
    }

    [Fact]
    public void insufficient_data_fires_nothing_unless_configured()
    {
        var insufficient = AlarmNotification(FixtureText(Alarm).Replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"INSUFFICIENT_DATA\"", StringComparison.Ordinal));

        var ignored = Assert.IsType<WebhookAccepted>(new AwsSnsSource().Parse(Sns(insufficient), ReceivedAt));
        Assert.Empty(ignored.Alerts);
        Assert.Contains("InsufficientDataFires", ignored.Note, StringComparison.Ordinal);

        var fired = Assert.Single(Assert.IsType<WebhookAccepted>(new AwsSnsSource(insufficientDataFires: true).Parse(Sns(insufficient), ReceivedAt)).Alerts);
        Assert.Equal((AlertStatus.Firing, "INSUFFICIENT_DATA"), (fired.Alert.Status, fired.Alert.Label("alarm_state")));
    }

    [Fact]
    public void a_notification_that_is_not_an_alarm_and_the_confirmations_are_accepted_with_no_alert()
    {
        Assert.Empty(Accept("aws-sns", Sns(FixtureText(Notification))).Alerts);
        Assert.Empty(Accept("aws-sns", Sns(AlarmNotification("{\"AlarmName\":\"x\",\"NewStateValue\":\"MAYBE\"}"))).Alerts);
        Assert.Empty(Accept("aws-sns", Sns(FixtureText("aws-sns/docs-subscription-confirmation.json"))).Alerts);
        Assert.Empty(Accept("aws-sns", Sns(FixtureText("aws-sns/docs-unsubscribe-confirmation.json"))).Alerts);
    }

    [Fact]
    public void an_envelope_that_is_not_sns_is_refused_naming_the_field()
    {
        Assert.Equal(new WebhookRejected(400, "Type: missing"), Reject("aws-sns", Sns("{}")));
        Assert.Equal(400, Reject("aws-sns", Sns(FixtureText(Notification).Replace("\"Type\" : \"Notification\"", "\"Type\" : \"Other\"", StringComparison.Ordinal))).StatusCode);
        Assert.Equal(new WebhookRejected(415, "expected text/plain or application/json"), Reject("aws-sns", Request(Fixture(Notification), "application/xml")));
    }

    [Fact]
    public void the_string_to_sign_is_the_documented_fields_in_order()
    {
        var (notification, _) = AwsSnsSource.ReadEnvelope(Sns(FixtureText(Notification)));
        Assert.Equal(
            "Message\nHello world!\nMessageId\n22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324\nSubject\nMy First Message\nTimestamp\n2012-05-02T00:54:06.655Z\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nNotification\n",
            Encoding.UTF8.GetString(notification!.StringToSign()));

        var (confirmation, _) = AwsSnsSource.ReadEnvelope(Sns(FixtureText("aws-sns/docs-subscription-confirmation.json")));
        var text = Encoding.UTF8.GetString(confirmation!.StringToSign());
        Assert.StartsWith("Message\nYou have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm", text, StringComparison.Ordinal);
        Assert.EndsWith(
            "SubscribeURL\nhttps://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37...\nTimestamp\n2012-04-26T20:45:04.751Z\nToken\n2336412f37...\nTopicArn\narn:aws:sns:us-west-2:123456789012:MyTopic\nType\nSubscriptionConfirmation\n",
            text,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem", true)]
    [InlineData("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem", true)]
    [InlineData("http://sns.us-west-2.amazonaws.com/SimpleNotificationService-x.pem", false)]
    [InlineData("https://sns.us-west-2.amazonaws.com:8443/SimpleNotificationService-x.pem", false)]
    [InlineData("https://sns.us-west-2.amazonaws.com.evil.example/x.pem", false)]
    [InlineData("https://user@sns.us-west-2.amazonaws.com/x.pem", false)]
    [InlineData("https://s3.amazonaws.com/x.pem", false)]
    [InlineData("https://evil.example/sns.us-west-2.amazonaws.com/x.pem", false)]
    [InlineData("http://127.0.0.1:5123/cert.pem", false)]
    public void only_amazon_sns_urls_are_fetched_by_default(string url, bool allowed)
    {
        Assert.Equal(allowed, AwsSnsReceiver.IsAmazonSnsUrl(url, new AwsSnsOptions()));
    }

    [Fact]
    public void the_test_only_prefix_allows_a_loopback_server_and_nothing_else()
    {
        var settings = new AwsSnsOptions { TestOnlyAllowedUrlPrefixes = ["http://127.0.0.1:5123/", "http://example.com/"] };

        Assert.True(AwsSnsReceiver.IsAmazonSnsUrl("http://127.0.0.1:5123/cert.pem", settings));
        Assert.False(AwsSnsReceiver.IsAmazonSnsUrl("http://127.0.0.1:51234/cert.pem", settings));
        Assert.False(AwsSnsReceiver.IsAmazonSnsUrl("http://example.com/cert.pem", settings));
        Assert.True(AwsSnsReceiver.IsLoopbackPrefix("http://[::1]:80/"));
        Assert.False(AwsSnsReceiver.IsLoopbackPrefix("http://127.0.0.1:5123"));
        Assert.False(AwsSnsReceiver.IsLoopbackPrefix("http://localhost.example.com/"));
    }
}
