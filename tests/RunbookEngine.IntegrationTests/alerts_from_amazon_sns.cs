using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Amazon SNS delivering CloudWatch alarms to a real host: AWS's documented messages and a captured alarm, re-signed with a local key
/// whose certificate (and a subscription URL) a loopback server serves, allowed through the test-only URL prefix setting.
/// </summary>
public sealed class alerts_from_amazon_sns(alerts_from_amazon_sns.HostFixture fixture) : IClassFixture<alerts_from_amazon_sns.HostFixture>
{
    private const string Topic = "arn:aws:sns:us-west-2:123456789012:MyTopic";
    private static readonly Dictionary<string, string> Credentials = new() { ["Authorization"] = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("sns:sns-password")) };

    private HttpClient Http => fixture.Workspace.Http;

    private SnsSigner Signer => fixture.Signer;

    [Fact]
    public async Task an_unauthenticated_delivery_is_challenged_for_basic_authentication_as_sns_needs()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/aws-sns") { Content = new ByteArrayContent(Fixture("docs-notification-hello-world.json")) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("text/plain; charset=UTF-8");
        using var response = await Http.SendAsync(request);

        Assert.Equal(401, (int)response.StatusCode);
        Assert.StartsWith("Basic realm=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_subscription_to_a_configured_topic_is_confirmed_once_and_one_to_another_topic_is_refused_without_a_fetch()
    {
        var other = Signer.Sign(Text("docs-subscription-confirmation.json"), "1", null, ("TopicArn", "arn:aws:sns:us-west-2:999999999999:NotOurs"), ("SubscribeURL", Signer.SubscribeUrl));
        var confirmations = Signer.Confirmations;
        var (refused, refusedBody) = await PostAsync(other);
        Assert.Equal(403, refused);
        Assert.Contains("not one of the configured topics", Error(refusedBody), StringComparison.Ordinal);
        Assert.Equal(confirmations, Signer.Confirmations);

        var ours = Signer.Sign(Text("docs-subscription-confirmation.json"), "1", null, ("SubscribeURL", Signer.SubscribeUrl));
        var (status, body) = await PostAsync(ours);
        Assert.Equal(200, status);
        Assert.Equal(Topic, body.GetProperty("confirmed").GetString());
        Assert.Equal(confirmations + 1, Signer.Confirmations);

        // A SubscribeURL anywhere but Amazon (or the test prefix) is never visited, even for our topic and with a good signature.
        var (elsewhere, elsewhereBody) = await PostAsync(Signer.Sign(Text("docs-subscription-confirmation.json"), "2", null, ("SubscribeURL", "http://169.254.169.254/latest/meta-data/")));
        Assert.Equal(403, elsewhere);
        Assert.Contains("SubscribeURL", Error(elsewhereBody), StringComparison.Ordinal);
        Assert.Equal(confirmations + 1, Signer.Confirmations);

        var (unsubscribed, _) = await PostAsync(Signer.Sign(Text("docs-unsubscribe-confirmation.json"), "2"));
        Assert.Equal(200, unsubscribed);
    }

    [Fact]
    public async Task a_cloudwatch_alarm_starts_its_runbook_its_ok_resolves_it_and_insufficient_data_fires_nothing()
    {
        var alarm = Text("live-cloudwatch-alarm-message-redshift.json");
        var fired = Signer.Sign(Text("docs-notification-hello-world.json"), "1", null, ("Message", alarm));
        var (status, body) = await PostAsync(fired);
        Assert.Equal(202, status);
        var alert = await Http.SettledAlertAsync(body.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var decision = alert.Decisions().Single();
        Assert.Equal(("Started", "on-aws-redshift-disk"), (alert.Outcome(), decision.Runbook));
        Assert.Equal("Succeeded", (await Http.EndedRunAsync(decision.RunId!)).Status());

        var ok = alarm.Replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"OK\"", StringComparison.Ordinal)
            .Replace("\"StateChangeTime\":\"2015-05-26T07:49:42.541+0000\"", "\"StateChangeTime\":\"2015-05-26T08:19:42.541+0000\"", StringComparison.Ordinal);
        var resolved = Signer.Sign(Text("docs-notification-hello-world.json"), "2", null, ("Message", ok), ("MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf325"));
        var (resolvedStatus, resolvedBody) = await PostAsync(resolved);
        Assert.Equal(202, resolvedStatus);
        Assert.Equal("Resolution", (await Http.SettledAlertAsync(resolvedBody.GetProperty("alerts")[0].GetProperty("id").GetString()!)).Outcome());
        var closed = await Http.SettledAlertAsync(alert.GetProperty("alert").GetProperty("id").GetString()!);
        Assert.Equal(DateTimeOffset.Parse("2015-05-26T08:19:42.541Z", System.Globalization.CultureInfo.InvariantCulture), closed.GetProperty("alert").GetProperty("resolvedAt").GetDateTimeOffset());

        var stored = await CountAsync();
        var insufficient = alarm.Replace("\"NewStateValue\":\"ALARM\"", "\"NewStateValue\":\"INSUFFICIENT_DATA\"", StringComparison.Ordinal);
        var (nothing, nothingBody) = await PostAsync(Signer.Sign(Text("docs-notification-hello-world.json"), "2", null, ("Message", insufficient), ("MessageId", "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf326")));
        Assert.Equal(200, nothing);
        Assert.Equal(0, nothingBody.GetProperty("accepted").GetInt32());
        Assert.Contains("INSUFFICIENT_DATA", nothingBody.GetProperty("note").GetString(), StringComparison.Ordinal);
        Assert.Equal(stored, await CountAsync());

        // One certificate URL, fetched once for every message this host verified.
        Assert.Equal(1, Signer.CertificateFetches);
    }

    [Fact]
    public async Task bad_messages_are_each_refused_with_their_reason_and_store_nothing()
    {
        var alarm = Text("live-cloudwatch-alarm-message-redshift.json");
        var good = Signer.Sign(Text("docs-notification-hello-world.json"), "2", null, ("Message", alarm), ("MessageId", "bad-0"));
        var before = await CountAsync();

        await Refused(good.Replace("sapi-03-seznam", "sapi-04-seznam", StringComparison.Ordinal), 403, "does not match the message");
        await Refused(Signer.Sign(Text("docs-notification-hello-world.json"), "2", "https://sns.us-west-2.amazonaws.com.evil.example/cert.pem"), 403, "SigningCertURL");
        await Refused(Signer.Sign(Text("docs-notification-hello-world.json"), "2", "https://example.com/SimpleNotificationService-x.pem"), 403, "SigningCertURL");
        await Refused(Signer.Sign(Text("docs-notification-hello-world.json"), "2", "http://sns.us-west-2.amazonaws.com/SimpleNotificationService-x.pem"), 403, "SigningCertURL");
        await Refused(Signer.Sign(Text("docs-notification-hello-world.json"), "3"), 400, "SignatureVersion: expected \"1\" or \"2\", got \"3\"");
        await Refused(good.Replace("\"MessageId\" : \"bad-0\",", "", StringComparison.Ordinal), 400, "MessageId: missing");
        await Refused(SnsSigner.Replace(good, ("Signature", "")), 401, "Signature: missing");
        await Refused("this is not JSON", 400, "malformed JSON");
        await Refused(SnsSigner.Replace(good, ("TopicArn", "arn:aws:sns:us-west-2:999999999999:NotOurs")), 403, "not one of the configured topics");
        var (tooLarge, _) = await PostAsync(good.Replace("\"Message\" :", "\"Padding\" : \"" + new string('x', 70 * 1024) + "\",\n  \"Message\" :", StringComparison.Ordinal));
        Assert.Equal(413, tooLarge);

        // Signed by Amazon but not an alarm: answered 2xx, since SNS would only resend it, and stored nowhere.
        var (hello, helloBody) = await PostAsync(Signer.Sign(Text("docs-notification-hello-world.json"), "2"));
        Assert.Equal(200, hello);
        Assert.Equal(0, helloBody.GetProperty("accepted").GetInt32());

        Assert.Equal(before, await CountAsync());

        async Task Refused(string message, int status, string reason)
        {
            var (answered, body) = await PostAsync(message);
            Assert.True(answered == status, $"expected {status} for {reason}, got {answered}: {body}");
            Assert.Contains(reason, Error(body), StringComparison.Ordinal);
        }
    }

    private static byte[] Fixture(string file) => File.ReadAllBytes(AlertWebhooks.Fixture("aws-sns", file));

    private static string Text(string file) => Encoding.UTF8.GetString(Fixture(file));

    private static string Error(JsonElement body) => body.GetProperty("error").GetString()!;

    private Task<(int Status, JsonElement Body)> PostAsync(string message) =>
        Http.PostHookAsync("aws-sns", Encoding.UTF8.GetBytes(message), "text/plain; charset=UTF-8", Credentials);

    private async Task<int> CountAsync()
    {
        var (status, body) = await Http.SendAsync(HttpMethod.Get, "/api/alerts?source=aws-sns&limit=500");
        Assert.Equal(200, status);
        return body.ValueKind == JsonValueKind.Array ? body.GetArrayLength() : body.GetProperty("alerts").GetArrayLength();
    }

    /// <summary>A host for our topic, with basic authentication (as SNS sends it from the subscription URL) and the signer's loopback prefix allowed.</summary>
    public sealed class HostFixture : IAsyncLifetime
    {
        internal SnsSigner Signer { get; } = new();

        internal HostWorkspace Workspace { get; private set; } = null!;

        public async Task InitializeAsync() => Workspace = await HostWorkspace.StartAsync(
            new Dictionary<string, string>
            {
                ["RunbookEngine__Alerts__AwsSns__TopicArns__0"] = Topic,
                ["RunbookEngine__Alerts__AwsSns__TestOnlyAllowedUrlPrefixes__0"] = Signer.Prefix,
                ["RunbookEngine__Alerts__Sources__aws-sns__BasicUser"] = "sns",
                ["RunbookEngine__Alerts__Sources__aws-sns__BasicPassword"] = "sns-password",
                ["RunbookEngine__Alerts__MaxBodyBytes"] = "65536",
            },
            new Dictionary<string, string>
            {
                ["on-aws-redshift-disk"] = """
                    // ---
                    // description: Answers the captured CloudWatch alarm on a Redshift cluster's disk
                    // alerts:
                    //   - name: martin-test
                    //     source: aws-sns
                    //     labels: { ClusterIdentifier: sapi-03-seznam, namespace: AWS/Redshift }
                    // ---
                    await Step("look", ct => Task.CompletedTask);
                    """,
            });

        public async Task DisposeAsync()
        {
            await Workspace.DisposeAsync();
            await Signer.DisposeAsync();
        }
    }
}
