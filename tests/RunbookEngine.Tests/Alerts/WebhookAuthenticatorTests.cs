using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;

namespace RunbookEngine.Tests.Alerts;

public sealed class WebhookAuthenticatorTests
{
    private static readonly IAlertSource Alertmanager = AlertSources.Find("alertmanager")!;
    private static readonly IAlertSource Grafana = AlertSources.Find("grafana")!;

    private static WebhookAuthenticator Authenticator(string source, WebhookSourceOptions settings, DateTimeOffset? now = null)
    {
        var options = new RunbookEngineOptions();
        options.Alerts.Sources[source] = settings;
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(now ?? Webhook.ReceivedAt);
        return new WebhookAuthenticator(Options.Create(options), time, NullLogger<WebhookAuthenticator>.Instance);
    }

    private static int? Status(IngestResponse? response) => response?.StatusCode;

    [Fact]
    public void without_a_credential_only_loopback_senders_are_let_in()
    {
        var authenticator = Authenticator("grafana", new WebhookSourceOptions());
        var request = Webhook.Request(Encoding.UTF8.GetBytes("{}"));

        Assert.Null(authenticator.Authenticate(Alertmanager, request, fromLoopback: true));
        Assert.Equal(401, Status(authenticator.Authenticate(Alertmanager, request, fromLoopback: false)));
    }

    [Fact]
    public void a_bearer_token_is_required_and_compared()
    {
        var authenticator = Authenticator("alertmanager", new WebhookSourceOptions { BearerToken = "s3cret" });
        var body = Encoding.UTF8.GetBytes("{}");

        Assert.Equal(401, Status(authenticator.Authenticate(Alertmanager, Webhook.Request(body), fromLoopback: true)));
        Assert.Equal(403, Status(authenticator.Authenticate(Alertmanager, Webhook.Request(body, "application/json", ("Authorization", "Bearer s3cre")), fromLoopback: true)));
        Assert.Null(authenticator.Authenticate(Alertmanager, Webhook.Request(body, "application/json", ("Authorization", "Bearer s3cret")), fromLoopback: false));
    }

    [Fact]
    public void basic_authentication_checks_user_and_password()
    {
        var authenticator = Authenticator("alertmanager", new WebhookSourceOptions { BasicUser = "am", BasicPassword = "pw" });
        var body = Encoding.UTF8.GetBytes("{}");
        string Basic(string pair) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(pair));

        Assert.Null(authenticator.Authenticate(Alertmanager, Webhook.Request(body, "application/json", ("Authorization", Basic("am:pw"))), false));
        Assert.Equal(403, Status(authenticator.Authenticate(Alertmanager, Webhook.Request(body, "application/json", ("Authorization", Basic("am:nope"))), false)));
        Assert.Equal(401, Status(authenticator.Authenticate(Alertmanager, Webhook.Request(body, "application/json", ("Authorization", "Basic !!!")), false)));
    }

    [Fact]
    public void a_query_token_is_required_and_compared_before_the_body_is_read()
    {
        var azure = AlertSources.Find("azure-monitor")!;
        var authenticator = Authenticator("azure-monitor", new WebhookSourceOptions { QueryToken = "q-s3cret" });
        WebhookRequest WithToken(string? token) => new(
            ReadOnlyMemory<byte>.Empty, "application/json", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase), token is null ? null : new Dictionary<string, string> { ["token"] = token });

        Assert.Null(authenticator.AuthenticateHeaders(azure, WithToken("q-s3cret"), fromLoopback: false));
        Assert.Equal(401, Status(authenticator.AuthenticateHeaders(azure, WithToken(null), fromLoopback: false)));
        Assert.Equal(401, Status(authenticator.AuthenticateHeaders(azure, WithToken(""), fromLoopback: true)));
        Assert.Equal(403, Status(authenticator.AuthenticateHeaders(azure, WithToken("q-s3cre"), fromLoopback: true)));
        Assert.Equal(403, Status(authenticator.AuthenticateHeaders(azure, WithToken("q-s3cret "), fromLoopback: false)));

        // The refusal never repeats what was sent: refusals are logged.
        var refused = authenticator.AuthenticateHeaders(azure, WithToken("guess-123"), fromLoopback: false)!;
        Assert.DoesNotContain("guess-123", System.Text.Json.JsonSerializer.Serialize(refused.Body), StringComparison.Ordinal);
    }

    [Fact]
    public void credentials_in_an_azure_webhook_url_arrive_as_basic_authentication()
    {
        // Azure turns https://user:password@host/hooks/azure-monitor into an Authorization: Basic header, as browsers and curl do.
        var azure = AlertSources.Find("azure-monitor")!;
        var authenticator = Authenticator("azure-monitor", new WebhookSourceOptions { BasicUser = "azure", BasicPassword = "p@ss:word" });
        var body = Encoding.UTF8.GetBytes("{}");
        string Basic(string pair) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(pair));

        Assert.Null(authenticator.AuthenticateHeaders(azure, Webhook.Request(body, "application/json", ("Authorization", Basic("azure:p@ss:word"))), fromLoopback: false));
        Assert.Equal(403, Status(authenticator.AuthenticateHeaders(azure, Webhook.Request(body, "application/json", ("Authorization", Basic("azure:p@ss"))), fromLoopback: false)));
        Assert.Equal(401, Status(authenticator.AuthenticateHeaders(azure, Webhook.Request(body), fromLoopback: false)));
    }

    [Fact]
    public void a_bearer_token_in_the_query_string_is_not_a_bearer_token()
    {
        var authenticator = Authenticator("alertmanager", new WebhookSourceOptions { BearerToken = "s3cret" });
        var request = new WebhookRequest(Encoding.UTF8.GetBytes("{}"), "application/json", new Dictionary<string, string>(), new Dictionary<string, string> { ["token"] = "s3cret" });

        Assert.Equal(401, Status(authenticator.Authenticate(Alertmanager, request, fromLoopback: false)));
    }

    [Fact]
    public void grafana_signatures_with_a_timestamp_must_be_recent()
    {
        var body = Webhook.Fixture("grafana/alerting-test-default-payload-firing.json");
        var signed = Webhook.Request(body, "application/json",
            ("X-Grafana-Alerting-Signature", "576eba2781e60b88a6b8b220af61c641a4704d915e757a95f3a221df401459bb"),
            ("X-Grafana-Alerting-Timestamp", "1700000000"));
        var settings = new WebhookSourceOptions { Secret = "grafana-hmac-secret", TimestampHeader = "X-Grafana-Alerting-Timestamp" };

        Assert.Null(Authenticator("grafana", settings, DateTimeOffset.FromUnixTimeSeconds(1700000060)).Authenticate(Grafana, signed, false));
        Assert.Equal(403, Status(Authenticator("grafana", settings, DateTimeOffset.FromUnixTimeSeconds(1700000000 + 3600)).Authenticate(Grafana, signed, false)));
        Assert.Equal(401, Status(Authenticator("grafana", settings).Authenticate(Grafana,
            Webhook.Request(body, "application/json", ("X-Grafana-Alerting-Signature", "576eba2781e60b88a6b8b220af61c641a4704d915e757a95f3a221df401459bb")), false)));
    }

    [Theory]
    [InlineData("sha256=", "hex")]
    [InlineData("", "base64")]
    public void a_signed_custom_source_checks_the_body_under_each_secret_of_a_rotation(string prefix, string encoding)
    {
        var settings = new CustomSourceOptions
        {
            Fields = new(StringComparer.OrdinalIgnoreCase) { ["name"] = "/title" },
            Secret = "old-secret",
            Secrets = ["new-secret"],
            SignatureHeader = "X-Acme-Signature",
            SignaturePrefix = prefix,
            SignatureEncoding = encoding,
        };
        var source = CustomSource.Create("acme", settings);
        var authenticator = Authenticator("alertmanager", new WebhookSourceOptions());
        var body = Encoding.UTF8.GetBytes("{\"title\": \"DiskFull\"}");
        string Sign(string secret, byte[] signed)
        {
            var mac = System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed);
            return prefix + (encoding == "hex" ? Convert.ToHexStringLower(mac) : Convert.ToBase64String(mac));
        }

        WebhookRequest Signed(string signature) => Webhook.Request(body, "application/json", ("X-Acme-Signature", signature));

        Assert.Null(authenticator.Authenticate(source, Signed(Sign("old-secret", body)), fromLoopback: false));
        Assert.Null(authenticator.Authenticate(source, Signed(Sign("new-secret", body)), fromLoopback: false));
        Assert.Equal(403, Status(authenticator.Authenticate(source, Signed(Sign("other-secret", body)), fromLoopback: false)));
        Assert.Equal(403, Status(authenticator.Authenticate(source, Signed(Sign("old-secret", Encoding.UTF8.GetBytes("{}"))), fromLoopback: false)));
        Assert.Equal(403, Status(authenticator.Authenticate(source, Signed("not a signature"), fromLoopback: false)));
        Assert.Equal(401, Status(authenticator.Authenticate(source, Webhook.Request(body), fromLoopback: true)));
    }

    [Fact]
    public void a_custom_signature_in_hex_is_read_in_either_case()
    {
        var source = CustomSource.Create("acme", new CustomSourceOptions { Fields = new(StringComparer.OrdinalIgnoreCase) { ["name"] = "/title" }, Secret = "s" });
        var body = Encoding.UTF8.GetBytes("{}");
        var upper = Convert.ToHexString(System.Security.Cryptography.HMACSHA256.HashData(Encoding.UTF8.GetBytes("s"), body));

        Assert.Null(Authenticator("alertmanager", new WebhookSourceOptions()).Authenticate(source, Webhook.Request(body, "application/json", ("X-Signature-256", upper)), fromLoopback: false));
    }
}
