using System.Text;
using RunbookEngine.Alerts.Sources;
using static RunbookEngine.Tests.Alerts.Webhook;

namespace RunbookEngine.Tests.Alerts;

/// <summary>What every source must do with a request it cannot use: answer with a status, never throw.</summary>
public sealed class WebhookBadInputTests
{
    public static TheoryData<string> Sources => [.. AlertSources.All.Select(s => s.Name)];

    /// <summary>Each source with a real body of its own, for the corruption tests.</summary>
    public static TheoryData<string, string> RealBodies => new()
    {
        { "alertmanager", "alertmanager/live-firing-grouped.json" },
        { "alertmanager", "alertmanager/live-resolved.json" },
        { "grafana", "grafana/docs-firing-two-alerts.json" },
        { "grafana", "grafana/alerting-test-default-payload-firing.json" },
        { "pagerduty", "pagerduty/zulip-incident-triggered-v3.json" },
        { "datadog", "datadog/relay-default-payload-service-check-triggered.json" },
        { "opsgenie", "opsgenie/zulip-create.json" },
        { "azure-monitor", "azure-monitor/docs-test-metric-static-fired.json" },
        { "azure-monitor", "azure-monitor/docs-test-activity-log-administrative-fired.json" },
        { "aws-sns", "aws-sns/docs-notification-hello-world.json" },
        { "aws-sns", "aws-sns/docs-subscription-confirmation.json" },
        { "generic", "alertmanager/live-firing-single.json" },
    };

    [Theory]
    [MemberData(nameof(Sources))]
    public void MissingContentType_Is415(string source)
    {
        Assert.Equal(new WebhookRejected(415, Expected(source)), Reject(source, Request("{}", contentType: null)));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void ContentTypeHeader_StandsIn_WhenTheFieldIsNull(string source)
    {
        var request = Request(Encoding.UTF8.GetBytes("[]"), null, ("content-type", "application/json"));

        Assert.Equal(400, Reject(source, request).StatusCode);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void OtherContentTypes_Are415(string source)
    {
        // Amazon SNS posts its JSON as text/plain, so that source takes it.
        foreach (var contentType in new[] { "text/plain", "", "application/x-www-form-urlencoded", "application/jsonx", "application/problem+json", "json" }.Where(t => source != "aws-sns" || t != "text/plain"))
        {
            Assert.Equal(new WebhookRejected(415, Expected(source)), Reject(source, Request("{}", contentType)));
        }
    }

    private static string Expected(string source) => source == "aws-sns" ? "expected text/plain or application/json" : "expected application/json";

    [Theory]
    [MemberData(nameof(Sources))]
    public void JsonContentType_WithParametersOrAnyCase_IsAccepted(string source)
    {
        foreach (var contentType in new[] { "application/json; charset=utf-8", "Application/JSON", " application/json ;charset=UTF-8" })
        {
            Assert.Equal(new WebhookRejected(400, "$: expected an object, got an array"), Reject(source, Request("[]", contentType)));
        }
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void EmptyBody_Is400(string source)
    {
        Assert.Equal(new WebhookRejected(400, "malformed JSON: empty body"), Reject(source, Request([])));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void WhitespaceOnlyBody_IsMalformed(string source)
    {
        Assert.StartsWith("malformed JSON: ", Reject(source, "  \n").Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void TruncatedJson_IsMalformed_WithWhereItBroke(string source)
    {
        var rejected = Reject(source, "{\"alerts\": [{\"name\": \"X\"");

        Assert.Equal(400, rejected.StatusCode);
        Assert.StartsWith("malformed JSON: ", rejected.Reason, StringComparison.Ordinal);
        Assert.Contains("(line 1, byte ", rejected.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", rejected.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void NonObjectRoot_Is400(string source)
    {
        Assert.Equal(new WebhookRejected(400, "$: expected an object, got an array"), Reject(source, "[{\"name\": \"X\"}]"));
        Assert.Equal(new WebhookRejected(400, "$: expected an object, got a string"), Reject(source, "\"alert\""));
        Assert.Equal(new WebhookRejected(400, "$: expected an object, got a number"), Reject(source, "42"));
        Assert.Equal(new WebhookRejected(400, "$: expected an object, got null"), Reject(source, "null"));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void InvalidUtf8_IsMalformed(string source)
    {
        Assert.Equal(new WebhookRejected(400, "malformed JSON: not valid UTF-8"), Reject(source, Request([(byte)'{', (byte)'"', 0xC3, 0x28, (byte)'"', (byte)':', (byte)'1', (byte)'}'])));
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void DuplicateKeys_AreMalformed(string source)
    {
        var rejected = Reject(source, "{\"name\": \"X\", \"name\": \"Y\"}");

        Assert.Equal(400, rejected.StatusCode);
        Assert.StartsWith("malformed JSON: ", rejected.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void TrailingGarbage_AndComments_AreMalformed(string source)
    {
        Assert.StartsWith("malformed JSON: ", Reject(source, "{} {}").Reason, StringComparison.Ordinal);
        Assert.StartsWith("malformed JSON: ", Reject(source, "{/* c */}").Reason, StringComparison.Ordinal);
        Assert.StartsWith("malformed JSON: ", Reject(source, "{\"a\": 1,}").Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void DeepNesting_IsMalformed_NotAStackOverflow(string source)
    {
        var deep = new string('[', 10_000) + new string(']', 10_000);

        Assert.StartsWith("malformed JSON: ", Reject(source, "{\"alerts\": " + deep + "}").Reason, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void LoneSurrogateEscape_InAPropertyName_IsMalformed_NotThrown(string source)
    {
        Assert.Equal(
            new WebhookRejected(400, "malformed JSON: a property name is not valid Unicode (a lone surrogate escape)"),
            Reject(source, "{\"name\": \"X\", \"\\udfff\": \"x\"}"));
    }

    [Fact]
    public void LoneSurrogateEscape_InAValue_IsRejected_NamingTheField()
    {
        Assert.Equal(new WebhookRejected(400, "name: not valid Unicode (a lone surrogate escape)"), Reject("generic", "{\"name\": \"\\ud800\"}"));
        Assert.Equal(
            new WebhookRejected(400, "alerts[0].labels.alertname: not valid Unicode (a lone surrogate escape)"),
            Reject("alertmanager", Edit("alertmanager/live-firing-single.json", ("\"alertname\":\"DiskFull\",\"instance\"", "\"alertname\":\"Disk\\udc00\",\"instance\""))));
    }

    [Fact]
    public void EscapedSurrogatePair_IsText()
    {
        Assert.Equal("Disk \U0001F525", Assert.Single(Accept("generic", "{\"name\": \"Disk \\ud83d\\udd25\"}").Alerts).Alert.Name);
    }

    [Theory]
    [MemberData(nameof(Sources))]
    public void Utf8Bom_IsTolerated(string source)
    {
        Assert.Equal(new WebhookRejected(400, "$: expected an object, got an array"), Reject(source, Request([0xEF, 0xBB, 0xBF, (byte)'[', (byte)']'])));
    }

    [Theory]
    [MemberData(nameof(RealBodies))]
    public void EveryTruncationOfARealBody_IsAnAnswer_NeverAnException(string source, string fixture)
    {
        // Only the trailing whitespace (Go's json.Encoder newline) can go without losing the JSON.
        var body = Fixture(fixture);
        var complete = body.AsSpan().TrimEnd(" \n"u8).Length;
        for (var length = 0; length < complete; length++)
        {
            var result = Source(source).Parse(Request(body[..length]), ReceivedAt);

            Assert.Equal(400, Assert.IsType<WebhookRejected>(result).StatusCode);
        }
    }

    [Theory]
    [MemberData(nameof(RealBodies))]
    public void RandomByteDamageToARealBody_IsAnAnswer_NeverAnException(string source, string fixture)
    {
        var original = Fixture(fixture);
        var random = new Random(20261123);
        for (var round = 0; round < 2_000; round++)
        {
            var body = (byte[])original.Clone();
            for (var flips = random.Next(1, 4); flips > 0; flips--)
            {
                body[random.Next(body.Length)] = (byte)random.Next(256);
            }

            var result = Source(source).Parse(Request(body), ReceivedAt);

            Assert.True(result is WebhookAccepted or WebhookRejected { StatusCode: 400 }, $"round {round}: {result}");
        }
    }

    [Theory]
    [MemberData(nameof(RealBodies))]
    public void EachValueReplacedByEveryOtherJsonType_IsAnAnswer_NeverAnException(string source, string fixture)
    {
        // Every string, number, boolean and null in a real body, in turn, becomes each other kind of JSON value.
        var text = FixtureText(fixture);
        var values = System.Text.RegularExpressions.Regex.Matches(text, "(?<=:\\s*)(\"(?:[^\"\\\\]|\\\\.)*\"|-?[0-9][0-9.eE+-]*|true|false|null)");
        string[] replacements = ["[]", "{}", "\"\"", "0", "-1", "1e400", "true", "null", "\"0001-01-01T00:00:00Z\"", "[\"x\"]", "{\"k\": 1}"];
        foreach (System.Text.RegularExpressions.Match value in values)
        {
            foreach (var replacement in replacements)
            {
                var body = text[..value.Index] + replacement + text[(value.Index + value.Length)..];

                var result = Source(source).Parse(Request(body), ReceivedAt);

                Assert.True(result is WebhookAccepted or WebhookRejected { StatusCode: 400 }, $"{value.Value} -> {replacement}: {result}");
            }
        }
    }
}
