using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts.Sources;

namespace RunbookEngine.Alerts;

/// <summary>
/// What <c>/hooks/aws-sns</c> does between the credential check and the store: read the SNS envelope, check its topic is one of
/// ours, verify its signature with the certificate it names (fetched from Amazon only, and kept), then confirm a subscription by
/// visiting its <c>SubscribeURL</c> (on Amazon's host only), acknowledge an unsubscription, or hand a notification to the alert path.
/// </summary>
public sealed partial class AwsSnsReceiver(
    IHttpClientFactory httpClients, AlertIngest ingest, IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<AwsSnsReceiver> logger)
{
    /// <summary>The named <see cref="HttpClient"/> for certificates and subscription URLs: no redirects, a short timeout.</summary>
    public const string HttpClientName = "aws-sns";

    // A PEM certificate is 2-3 KB; anything far larger is not one.
    private const int MaxCertificateBytes = 64 * 1024;

    // Bounds the cache even if someone finds many certificate URLs on Amazon's hosts: past it the cache starts over.
    private const int MaxCachedCertificates = 64;

    private readonly ConcurrentDictionary<string, X509Certificate2> _certificates = new(StringComparer.Ordinal);

    /// <summary>Handles one authenticated SNS request whose body has been read.</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The answer for SNS.</returns>
    public async Task<IngestResponse> ReceiveAsync(WebhookRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = options.Value.Alerts.AwsSns;
        var (envelope, rejected) = AwsSnsSource.ReadEnvelope(request);
        if (envelope is null)
        {
            return Refuse(rejected!.StatusCode, rejected.Reason);
        }

        // Before any fetch: a message for a topic that is not ours costs nothing, whatever URLs it names.
        var listed = settings.TopicArns.Contains(envelope.TopicArn, StringComparer.Ordinal);
        if (envelope.Type == SnsEnvelope.SubscriptionConfirmation && !listed)
        {
            return Refuse(403, settings.TopicArns.Count == 0
                ? $"refused to confirm a subscription to {envelope.TopicArn}: no topic is configured (RunbookEngine:Alerts:AwsSns:TopicArns)"
                : $"refused to confirm a subscription to {envelope.TopicArn}: not one of the configured topics (RunbookEngine:Alerts:AwsSns:TopicArns)");
        }

        if (settings.TopicArns.Count > 0 && !listed)
        {
            return Refuse(403, $"topic {envelope.TopicArn} is not one of the configured topics (RunbookEngine:Alerts:AwsSns:TopicArns)");
        }

        if (await VerifyAsync(envelope, settings, cancellationToken) is { } refused)
        {
            return refused;
        }

        switch (envelope.Type)
        {
            case SnsEnvelope.SubscriptionConfirmation:
                return await ConfirmAsync(envelope, settings, cancellationToken);
            case SnsEnvelope.UnsubscribeConfirmation:
                LogUnsubscribed(envelope.TopicArn, envelope.MessageId);
                return new IngestResponse(200, new { acknowledged = envelope.Type, topic = envelope.TopicArn });
            default:
                var source = new AwsSnsSource(settings.InsufficientDataFires);
                if (source.Parse(request, time.GetUtcNow()) is WebhookAccepted { Alerts.Count: 0 } nothing)
                {
                    // Nothing will ever come of resending it, so it is answered 2xx; the log is where an operator finds it.
                    LogNothingToDo(envelope.TopicArn, envelope.MessageId, nothing.Note);
                    return new IngestResponse(200, new { accepted = 0, note = nothing.Note });
                }

                return await ingest.IngestAsync(source, request, cancellationToken);
        }
    }

    /// <summary>Whether a URL is one SNS itself would send: https on <c>sns.REGION.amazonaws.com</c> (or <c>.com.cn</c>), or a configured test-only loopback prefix.</summary>
    /// <param name="url">The URL as sent.</param>
    /// <param name="settings">The SNS settings, for the test-only prefixes.</param>
    /// <returns>True when the engine may fetch it.</returns>
    public static bool IsAmazonSnsUrl(string url, AwsSnsOptions settings)
    {
        ArgumentNullException.ThrowIfNull(url);
        ArgumentNullException.ThrowIfNull(settings);
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.UserInfo.Length > 0)
        {
            return false;
        }

        if (uri.Scheme == Uri.UriSchemeHttps && uri.IsDefaultPort && SnsHost().IsMatch(uri.Host))
        {
            return true;
        }

        return settings.TestOnlyAllowedUrlPrefixes.Any(prefix => IsLoopbackPrefix(prefix) && url.StartsWith(prefix, StringComparison.Ordinal));
    }

    /// <summary>Whether a test-only URL prefix is what it must be: http(s), a loopback address, ending in <c>/</c> so no other port or host name continues it.</summary>
    /// <param name="prefix">The configured prefix.</param>
    /// <returns>True when acceptable.</returns>
    public static bool IsLoopbackPrefix(string prefix) =>
        prefix is { Length: > 0 } && prefix.EndsWith('/') && Uri.TryCreate(prefix, UriKind.Absolute, out var uri) && uri.UserInfo.Length == 0
        && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
        && System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var address) && System.Net.IPAddress.IsLoopback(address);

    private async Task<IngestResponse?> VerifyAsync(SnsEnvelope envelope, AwsSnsOptions settings, CancellationToken cancellationToken)
    {
        if (envelope.Signature is null || envelope.SigningCertUrl is null || envelope.SignatureVersion is null)
        {
            var missing = envelope.Signature is null ? "Signature" : envelope.SigningCertUrl is null ? "SigningCertURL" : "SignatureVersion";
            return Refuse(401, $"{missing}: missing; SNS messages are signed, and unsigned ones are refused");
        }

        var algorithm = envelope.SignatureVersion switch
        {
            "1" => HashAlgorithmName.SHA1,
            "2" => HashAlgorithmName.SHA256,
            _ => default(HashAlgorithmName?),
        };
        if (algorithm is null)
        {
            return Refuse(400, $"SignatureVersion: expected \"1\" or \"2\", got \"{envelope.SignatureVersion}\"");
        }

        if (!IsAmazonSnsUrl(envelope.SigningCertUrl, settings) || !envelope.SigningCertUrl.EndsWith(".pem", StringComparison.Ordinal))
        {
            return Refuse(403, $"SigningCertURL: {envelope.SigningCertUrl} is not an https://sns.REGION.amazonaws.com/….pem URL, so the message cannot be verified");
        }

        byte[] signature;
        try
        {
            signature = Convert.FromBase64String(envelope.Signature);
        }
        catch (FormatException)
        {
            return Refuse(403, "Signature: not base64");
        }

        X509Certificate2 certificate;
        try
        {
            certificate = await CertificateAsync(envelope.SigningCertUrl, settings.FetchTimeout, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or CryptographicException or IOException or InvalidDataException && !cancellationToken.IsCancellationRequested)
        {
            // Probably passing: a 5xx has SNS retry the delivery, and the certificate is not cached, so the retry fetches again.
            LogCertificateFailed(e, envelope.SigningCertUrl);
            return new IngestResponse(502, new { error = $"could not fetch the signing certificate {envelope.SigningCertUrl}: {e.Message}" });
        }

        var now = time.GetUtcNow();
        if (now < certificate.NotBefore.ToUniversalTime() || now > certificate.NotAfter.ToUniversalTime())
        {
            return Refuse(403, $"the signing certificate {envelope.SigningCertUrl} is not valid now");
        }

        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is null || !rsa.VerifyData(envelope.StringToSign(), signature, algorithm.Value, RSASignaturePadding.Pkcs1))
        {
            return Refuse(403, $"the signature (version {envelope.SignatureVersion}) does not match the message");
        }

        return null;
    }

    private async Task<X509Certificate2> CertificateAsync(string url, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_certificates.TryGetValue(url, out var cached))
        {
            return cached;
        }

        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        using var client = httpClients.CreateClient(HttpClientName);
        using var response = await client.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, timer.Token);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"answered {(int)response.StatusCode}");
        }

        var pem = await ReadLimitedAsync(response, MaxCertificateBytes, timer.Token);
        var certificate = X509Certificate2.CreateFromPem(Encoding.ASCII.GetString(pem));
        if (_certificates.Count >= MaxCachedCertificates)
        {
            _certificates.Clear();
        }

        // Two requests racing for one URL both fetch; the first certificate stored is the one kept.
        return _certificates.GetOrAdd(url, certificate);
    }

    private async Task<IngestResponse> ConfirmAsync(SnsEnvelope envelope, AwsSnsOptions settings, CancellationToken cancellationToken)
    {
        var url = envelope.SubscribeUrl!;
        if (!IsAmazonSnsUrl(url, settings))
        {
            // Visiting whatever URL a message names would let anyone with a listed topic's name make this host fetch anything.
            return Refuse(403, "SubscribeURL: not an https://sns.REGION.amazonaws.com/ URL; the subscription was not confirmed");
        }

        try
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(settings.FetchTimeout);
            using var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.GetAsync(new Uri(url), HttpCompletionOption.ResponseHeadersRead, timer.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new HttpRequestException($"answered {(int)response.StatusCode}");
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException && !cancellationToken.IsCancellationRequested)
        {
            LogConfirmFailed(e, envelope.TopicArn);
            return new IngestResponse(502, new { error = $"could not confirm the subscription to {envelope.TopicArn}: {e.Message}" });
        }

        LogConfirmed(envelope.TopicArn);
        return new IngestResponse(200, new { confirmed = envelope.TopicArn });
    }

    private static async Task<byte[]> ReadLimitedAsync(HttpResponseMessage response, int limit, CancellationToken cancellationToken)
    {
        if (response.Content.Headers.ContentLength > limit)
        {
            throw new InvalidDataException($"the certificate is {response.Content.Headers.ContentLength} bytes; at most {limit} are read");
        }

        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[8192];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit)
            {
                throw new InvalidDataException($"the certificate is larger than {limit} bytes");
            }
        }

        return buffer.ToArray();
    }

    private IngestResponse Refuse(int status, string reason)
    {
        LogRefused(status, reason);
        return new IngestResponse(status, new { error = reason });
    }

    [GeneratedRegex(@"^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$", RegexOptions.CultureInvariant)]
    private static partial Regex SnsHost();

    [LoggerMessage(EventId = 420, Level = LogLevel.Warning, Message = "Refused an Amazon SNS message with {Status}: {Reason}")]
    private partial void LogRefused(int status, string reason);

    [LoggerMessage(EventId = 421, Level = LogLevel.Information, Message = "Confirmed the Amazon SNS subscription to {Topic}")]
    private partial void LogConfirmed(string topic);

    [LoggerMessage(EventId = 422, Level = LogLevel.Warning, Message = "Could not confirm the Amazon SNS subscription to {Topic}; answered 502")]
    private partial void LogConfirmFailed(Exception exception, string topic);

    [LoggerMessage(EventId = 423, Level = LogLevel.Warning, Message = "Amazon SNS unsubscribed this host from {Topic} (message {MessageId})")]
    private partial void LogUnsubscribed(string topic, string messageId);

    [LoggerMessage(EventId = 424, Level = LogLevel.Information, Message = "An Amazon SNS notification from {Topic} (message {MessageId}) carried no alert: {Note}")]
    private partial void LogNothingToDo(string topic, string messageId, string? note);

    [LoggerMessage(EventId = 425, Level = LogLevel.Warning, Message = "Could not fetch the Amazon SNS signing certificate {Url}; answered 502")]
    private partial void LogCertificateFailed(Exception exception, string url);
}
