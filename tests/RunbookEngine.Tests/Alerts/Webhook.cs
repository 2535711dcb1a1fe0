using System.Globalization;
using System.Text;
using RunbookEngine.Alerts.Sources;

namespace RunbookEngine.Tests.Alerts;

/// <summary>Fixture bodies and requests for the webhook tests. Bodies are read as bytes and never re-serialised: signatures are over the exact bytes.</summary>
internal static class Webhook
{
    public static readonly DateTimeOffset ReceivedAt = DateTimeOffset.Parse("2026-11-23T08:00:00Z", CultureInfo.InvariantCulture);

    public static byte[] Fixture(string relativePath) =>
        File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Alerts", "Fixtures", relativePath));

    public static string FixtureText(string relativePath) => Encoding.UTF8.GetString(Fixture(relativePath));

    /// <summary>A fixture with one exact piece of text replaced; fails loudly if the text is not there, so a test cannot silently test the original.</summary>
    public static byte[] Edit(string relativePath, params (string Find, string Replace)[] edits)
    {
        var text = FixtureText(relativePath);
        foreach (var (find, replace) in edits)
        {
            Assert.Contains(find, text, StringComparison.Ordinal);
            text = text.Replace(find, replace, StringComparison.Ordinal);
        }

        return Encoding.UTF8.GetBytes(text);
    }

    public static WebhookRequest Request(byte[] body, string? contentType = "application/json", params (string Name, string Value)[] headers)
    {
        var map = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in headers)
        {
            map[name] = value;
        }

        return new WebhookRequest(body, contentType, map);
    }

    public static WebhookRequest Request(string body, string? contentType = "application/json") => Request(Encoding.UTF8.GetBytes(body), contentType);

    public static IAlertSource Source(string name) => AlertSources.Find(name) ?? throw new InvalidOperationException($"no source {name}");

    public static WebhookAccepted Accept(string source, WebhookRequest request) =>
        Assert.IsType<WebhookAccepted>(Source(source).Parse(request, ReceivedAt));

    public static WebhookAccepted Accept(string source, byte[] body) => Accept(source, Request(body));

    public static WebhookAccepted Accept(string source, string body) => Accept(source, Request(body));

    public static ParsedAlert Single(string source, byte[] body) => Assert.Single(Accept(source, body).Alerts);

    public static ParsedAlert Single(string source, WebhookRequest request) => Assert.Single(Accept(source, request).Alerts);

    public static WebhookRejected Reject(string source, WebhookRequest request) =>
        Assert.IsType<WebhookRejected>(Source(source).Parse(request, ReceivedAt));

    public static WebhookRejected Reject(string source, byte[] body) => Reject(source, Request(body));

    public static WebhookRejected Reject(string source, string body) => Reject(source, Request(body));

    public static DateTimeOffset Time(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
}
