using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace RunbookEngine.TestSupport;

/// <summary>
/// Stands in for Amazon SNS: a local RSA key and self-signed certificate, served with a subscription confirmation URL from a
/// loopback HTTP server that counts every fetch. Messages are re-signed by replacing their signature fields in the text, so
/// the rest of a vendor's fixture stays byte for byte as published.
/// </summary>
public sealed partial class SnsSigner : LoopbackHttpServer
{
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly RSA _key = RSA.Create(2048);
    private readonly ConcurrentDictionary<string, int> _hits = new(StringComparer.Ordinal);
    private readonly string _certificatePem;

    public SnsSigner()
    {
        var request = new CertificateRequest("CN=sns.test.invalid", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(TimeProvider.System.GetUtcNow().AddDays(-1), TimeProvider.System.GetUtcNow().AddDays(30));
        _certificatePem = certificate.ExportCertificatePem();
        Listen();
    }

    /// <summary>The loopback server's base URL, ending in <c>/</c>: the test-only prefix the host must be told to allow.</summary>
    public string Prefix => Address.ToString();

    /// <summary>Where the certificate is served.</summary>
    public string CertificateUrl => Prefix + "SimpleNotificationService-test.pem";

    /// <summary>A subscription confirmation URL on the loopback server.</summary>
    public string SubscribeUrl => Prefix + "?Action=ConfirmSubscription&Token=test-token";

    /// <summary>How many times the certificate was fetched.</summary>
    public int CertificateFetches => _hits.GetValueOrDefault("/SimpleNotificationService-test.pem");

    /// <summary>How many times the subscription was confirmed.</summary>
    public int Confirmations => _hits.GetValueOrDefault("/");

    /// <summary>A JSON string value as SNS writes it (no needless escapes), for replacing a field's value in a fixture's text.</summary>
    public static string JsonString(string value) => JsonSerializer.Serialize(value, Relaxed);

    /// <summary>Replaces string fields' values in an SNS message's text; fails when a field is not there.</summary>
    public static string Replace(string json, params (string Field, string Value)[] fields)
    {
        foreach (var (field, value) in fields)
        {
            var pattern = new Regex("(\"" + Regex.Escape(field) + "\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"", RegexOptions.CultureInvariant);
            if (!pattern.IsMatch(json))
            {
                throw new InvalidOperationException($"the message has no {field} field");
            }

            json = pattern.Replace(json, m => m.Groups[1].Value + JsonString(value), 1);
        }

        return json;
    }

    /// <summary>
    /// The message with <c>SigningCertURL</c>, <c>SignatureVersion</c> and <c>Signature</c> replaced: signed with the local key over
    /// the string AWS documents (each signed field as <c>Name\nvalue\n</c>, in order), after <paramref name="fields"/> are replaced.
    /// </summary>
    public string Sign(string json, string version = "2", string? certificateUrl = null, params (string Field, string Value)[] fields)
    {
        json = Replace(json, [.. fields, ("SigningCertURL", certificateUrl ?? CertificateUrl), ("SignatureVersion", version)]);
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var type = root.GetProperty("Type").GetString();
        string[] names = type == "Notification"
            ? ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
            : ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"];
        var text = new StringBuilder();
        foreach (var name in names)
        {
            if (root.TryGetProperty(name, out var value))
            {
                text.Append(name).Append('\n').Append(value.GetString()).Append('\n');
            }
        }

        var hash = version == "1" ? HashAlgorithmName.SHA1 : HashAlgorithmName.SHA256;
        var signature = Convert.ToBase64String(_key.SignData(Encoding.UTF8.GetBytes(text.ToString()), hash, RSASignaturePadding.Pkcs1));
        return Replace(json, ("Signature", signature));
    }

    /// <inheritdoc />
    protected override ValueTask DisposeResourcesAsync()
    {
        _key.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <inheritdoc />
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var path = context.Request.Url!.AbsolutePath;
        _hits.AddOrUpdate(path, 1, (_, n) => n + 1);
        var body = path == "/SimpleNotificationService-test.pem" ? _certificatePem : "<ConfirmSubscriptionResponse/>";
        var bytes = Encoding.ASCII.GetBytes(body);
        context.Response.StatusCode = 200;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
    }
}
