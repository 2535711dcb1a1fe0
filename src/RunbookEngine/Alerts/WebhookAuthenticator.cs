using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts.Sources;

namespace RunbookEngine.Alerts;

/// <summary>
/// Checks a webhook's credentials as configured for its source: bearer token, basic authentication, a token in the URL's
/// query string, or the source's own HMAC signature, all compared in constant time. A source with no credential configured accepts loopback senders only.
/// Missing credentials get 401, wrong ones 403.
/// </summary>
public sealed partial class WebhookAuthenticator(IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<WebhookAuthenticator> logger)
{
    /// <summary>The query parameter that carries <see cref="WebhookCredentialOptions.QueryToken"/>.</summary>
    public const string QueryTokenParameter = "token";

    /// <summary>Checks the request's credentials for a source, before its body is parsed.</summary>
    /// <param name="source">The source.</param>
    /// <param name="request">The request.</param>
    /// <param name="fromLoopback">Whether the sender is on this machine.</param>
    /// <returns>Null when allowed; otherwise the refusal.</returns>
    public IngestResponse? Authenticate(IAlertSource source, WebhookRequest request, bool fromLoopback) =>
        AuthenticateHeaders(source, request, fromLoopback) ?? AuthenticateSignature(source, request);

    /// <summary>
    /// What can be checked before the body is read: a bearer token, basic authentication, the query token, a missing credential, and
    /// that the signature headers are there. An endpoint calls this first, so a sender that cannot authenticate never
    /// gets the server to read (or buffer) its body.
    /// </summary>
    /// <param name="source">The source.</param>
    /// <param name="request">The request; only its headers are looked at.</param>
    /// <param name="fromLoopback">Whether the sender is on this machine.</param>
    /// <returns>Null when allowed so far; otherwise the refusal.</returns>
    public IngestResponse? AuthenticateHeaders(IAlertSource source, WebhookRequest request, bool fromLoopback)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(request);
        var settings = Settings(source);
        if (settings is null || !settings.HasCredential)
        {
            var section = source is CustomSource custom ? CustomSource.Setting(custom.Name[CustomSource.Prefix.Length..]) : $"RunbookEngine:Alerts:Sources:{source.Name}";
            return fromLoopback ? null : Refuse(401, $"no credential is configured for {source.Name} webhooks, so only this machine may post them; configure {section}");
        }

        var authorization = Header(request, "Authorization");
        if (settings.BearerToken is { Length: > 0 } token)
        {
            if (authorization is null || !authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return Refuse(401, "a bearer token is required");
            }

            if (!SameSecret(authorization["Bearer ".Length..].Trim(), token))
            {
                return Refuse(403, "the bearer token is wrong");
            }
        }

        if (settings.BasicUser is { Length: > 0 } user)
        {
            if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
            {
                return Refuse(401, "basic authentication is required");
            }

            string given;
            try
            {
                given = Encoding.UTF8.GetString(Convert.FromBase64String(authorization["Basic ".Length..].Trim()));
            }
            catch (FormatException)
            {
                return Refuse(401, "the basic authentication header is malformed");
            }

            if (!SameSecret(given, $"{user}:{settings.BasicPassword}"))
            {
                return Refuse(403, "the user or password is wrong");
            }
        }

        if (settings.QueryToken is { Length: > 0 } queryToken)
        {
            // The reasons never repeat the given value: it is a secret, and refusals are logged.
            if (request.Query?.GetValueOrDefault(QueryTokenParameter) is not { Length: > 0 } given)
            {
                return Refuse(401, $"a {QueryTokenParameter} query parameter is required");
            }

            if (!SameSecret(given, queryToken))
            {
                return Refuse(403, $"the {QueryTokenParameter} query parameter is wrong");
            }
        }

        if (settings is CustomSourceOptions { HmacSecrets.Count: > 0 } signed && Header(request, signed.SignatureHeader) is null)
        {
            return Refuse(401, $"the {signed.SignatureHeader} header is missing");
        }

        if (settings.HmacSecrets.Count > 0 && settings is not CustomSourceOptions)
        {
            switch (source.Name)
            {
                case "grafana":
                    if (Header(request, "X-Grafana-Alerting-Signature") is null)
                    {
                        return Refuse(401, "the X-Grafana-Alerting-Signature header is missing");
                    }

                    if (settings is WebhookSourceOptions { TimestampHeader: { Length: > 0 } header } && Header(request, header) is null)
                    {
                        return Refuse(401, $"the {header} header is missing");
                    }

                    break;
                case "pagerduty":
                    if (Header(request, "X-PagerDuty-Signature") is null)
                    {
                        return Refuse(401, "the X-PagerDuty-Signature header is missing");
                    }

                    break;
                default:
                    // Options validation refuses a secret for a source that does not sign; this is a second guard.
                    return Refuse(500, $"{source.Name} webhooks are not signed; configure a bearer token or basic authentication instead");
            }
        }

        return null;
    }

    /// <summary>
    /// The <c>WWW-Authenticate</c> challenge to send with a 401 when the source expects basic authentication: senders that put
    /// credentials in the URL (Amazon SNS, <c>https://user:password@host/hooks/aws-sns</c>) send them only after such a challenge.
    /// </summary>
    /// <param name="source">The source.</param>
    /// <returns>The header value, or null when the source has no basic authentication configured.</returns>
    public string? BasicChallenge(IAlertSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return Settings(source)?.BasicUser is { Length: > 0 } ? "Basic realm=\"RunbookEngine webhooks\", charset=\"UTF-8\"" : null;
    }

    /// <summary>
    /// The source's HMAC signature over the body, when it has secrets configured; call after
    /// <see cref="AuthenticateHeaders"/> and a read of the body bounded by <see cref="AlertOptions.MaxBodyBytes"/>.
    /// </summary>
    /// <param name="source">The source.</param>
    /// <param name="request">The request with its whole body.</param>
    /// <returns>Null when allowed; otherwise the refusal.</returns>
    public IngestResponse? AuthenticateSignature(IAlertSource source, WebhookRequest request)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(request);
        if (Settings(source) is CustomSourceOptions { HmacSecrets.Count: > 0 } custom)
        {
            var header = Header(request, custom.SignatureHeader);
            if (header is null)
            {
                return Refuse(401, $"the {custom.SignatureHeader} header is missing");
            }

            var base64 = string.Equals(custom.SignatureEncoding, "base64", StringComparison.OrdinalIgnoreCase);
            return WebhookSignatures.VerifyCustom(custom.HmacSecrets, request.Body.Span, header, custom.SignaturePrefix, base64)
                ? null
                : Refuse(403, $"the {custom.SignatureHeader} signature does not match the body");
        }

        if (Settings(source) is WebhookSourceOptions settings && settings.HmacSecrets.Count > 0)
        {
            var body = request.Body.Span;
            switch (source.Name)
            {
                case "grafana":
                    var signature = Header(request, "X-Grafana-Alerting-Signature");
                    if (signature is null)
                    {
                        return Refuse(401, "the X-Grafana-Alerting-Signature header is missing");
                    }

                    var timestamp = settings.TimestampHeader is { Length: > 0 } header ? Header(request, header) : null;
                    if (settings.TimestampHeader is { Length: > 0 } && timestamp is null)
                    {
                        return Refuse(401, $"the {settings.TimestampHeader} header is missing");
                    }

                    var now = time.GetUtcNow();
                    var tolerance = timestamp is null ? (TimeSpan?)null : options.Value.Alerts.SignatureTolerance;
                    var verified = false;
                    foreach (var secret in settings.HmacSecrets)
                    {
                        verified |= WebhookSignatures.VerifyGrafana(secret, body, signature, timestamp, now, tolerance);
                    }

                    if (!verified)
                    {
                        return Refuse(403, timestamp is null ? "the signature does not match the body" : "the signature does not match, or its timestamp is too old");
                    }

                    break;
                case "pagerduty":
                    var signatures = Header(request, "X-PagerDuty-Signature");
                    if (signatures is null)
                    {
                        return Refuse(401, "the X-PagerDuty-Signature header is missing");
                    }

                    if (!WebhookSignatures.VerifyPagerDuty(settings.HmacSecrets, body, signatures))
                    {
                        return Refuse(403, "no v1 signature matches the body");
                    }

                    break;
                default:
                    // Options validation refuses a secret for a source that does not sign; this is a second guard.
                    return Refuse(500, $"{source.Name} webhooks are not signed; configure a bearer token or basic authentication instead");
            }
        }

        return null;
    }

    // A custom source carries its own settings; a built-in one finds them by name.
    private WebhookCredentialOptions? Settings(IAlertSource source) =>
        source is CustomSource custom ? custom.Options : options.Value.Alerts.Sources.GetValueOrDefault(source.Name);

    private IngestResponse Refuse(int status, string reason)
    {
        LogRefused(status, reason);
        return new IngestResponse(status, new { error = reason });
    }

    // One header lookup for the whole webhook path (case-insensitive whatever dictionary the caller built); empty is absent.
    private static string? Header(WebhookRequest request, string name) => WebhookJson.Header(request, name) is { Length: > 0 } value ? value : null;

    private static bool SameSecret(string given, string expected)
    {
        // Hash both so the comparison takes the same time whatever the lengths.
        var a = SHA256.HashData(Encoding.UTF8.GetBytes(given));
        var b = SHA256.HashData(Encoding.UTF8.GetBytes(expected));
        return CryptographicOperations.FixedTimeEquals(a, b);
    }

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "Refused a webhook with {Status}: {Reason}")]
    private partial void LogRefused(int status, string reason);
}
