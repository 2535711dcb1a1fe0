using System.Buffers;
using System.Net;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;

namespace RunbookEngine.Host.Api;

/// <summary>
/// <c>POST /hooks/{source}</c>: alert webhooks from Alertmanager, Grafana, PagerDuty, Datadog, Opsgenie, Azure Monitor, Amazon SNS
/// (<c>/hooks/aws-sns</c>, which verifies and confirms as SNS requires) and the generic shape;
/// <c>POST /hooks/custom/{name}</c>: the custom sources configured under <c>RunbookEngine:Alerts:Custom</c>.
/// </summary>
internal static class WebhookEndpoints
{
    public static void MapWebhookEndpoints(this IEndpointRouteBuilder app)
    {
        // {source} is one segment, so it never takes /hooks/custom/NAME; the literal segment also outranks it in routing.
        app.MapPost("/hooks/{source}", ReceiveAsync).DisableAntiforgery();
        app.MapPost("/hooks/custom/{name}", ReceiveCustomAsync).DisableAntiforgery();

        // Amazon SNS needs more than a parse: its signature is checked with a fetched certificate and subscriptions are confirmed.
        app.MapPost("/hooks/aws-sns", ReceiveAwsSnsAsync).DisableAntiforgery();
    }

    private static async Task<IResult> ReceiveAwsSnsAsync(
        HttpContext http, AwsSnsReceiver receiver, AlertIngest ingest, WebhookAuthenticator authenticator, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        var source = AlertSources.Find("aws-sns")!;
        var (request, refused) = await ReadAuthenticatedAsync(source, http, ingest, authenticator, options, cancellationToken);
        return refused ?? Answer(await receiver.ReceiveAsync(request!, cancellationToken));
    }

    private static Task<IResult> ReceiveAsync(
        string source, HttpContext http, AlertIngest ingest, WebhookAuthenticator authenticator, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        if (AlertSources.Find(source) is not { } alertSource)
        {
            var custom = string.Equals(source, "custom", StringComparison.OrdinalIgnoreCase) ? "; a custom source is posted to /hooks/custom/NAME" : "";
            return Task.FromResult(Answer(new IngestResponse(404, new { error = $"no alert source '{source}'; use {string.Join(", ", AlertSources.All.Select(s => s.Name))}{custom}" })));
        }

        return ReceiveFromAsync(AlertSources.Configured(alertSource, options.Value), http, ingest, authenticator, options, cancellationToken);
    }

    private static Task<IResult> ReceiveCustomAsync(
        string name, HttpContext http, CustomAlertSources custom, AlertIngest ingest, WebhookAuthenticator authenticator, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        if (custom.Find(name) is not { } alertSource)
        {
            var configured = custom.Names.Count == 0 ? "none is configured (RunbookEngine:Alerts:Custom)" : "configured: " + string.Join(", ", custom.Names);
            return Task.FromResult(Answer(new IngestResponse(404, new { error = $"no custom alert source '{name}'; {configured}" })));
        }

        return ReceiveFromAsync(alertSource, http, ingest, authenticator, options, cancellationToken);
    }

    private static async Task<IResult> ReceiveFromAsync(
        IAlertSource alertSource, HttpContext http, AlertIngest ingest, WebhookAuthenticator authenticator, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        var (request, refused) = await ReadAuthenticatedAsync(alertSource, http, ingest, authenticator, options, cancellationToken);
        return refused ?? Answer(authenticator.AuthenticateSignature(alertSource, request!) ?? await ingest.IngestAsync(alertSource, request!, cancellationToken));
    }

    /// <summary>The request with its body once the header credentials check out; otherwise the refusal (401, 403, 413).</summary>
    private static async Task<(WebhookRequest? Request, IResult? Refused)> ReadAuthenticatedAsync(
        IAlertSource alertSource, HttpContext http, AlertIngest ingest, WebhookAuthenticator authenticator, Microsoft.Extensions.Options.IOptions<RunbookEngineOptions> options, CancellationToken cancellationToken)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, values) in http.Request.Headers)
        {
            headers[name] = values.ToString();
        }

        // Only the credential is taken from the query string; nothing else in the URL is read, stored or logged.
        var query = new Dictionary<string, string>(StringComparer.Ordinal);
        if (http.Request.Query.TryGetValue(WebhookAuthenticator.QueryTokenParameter, out var token))
        {
            query[WebhookAuthenticator.QueryTokenParameter] = token.Count == 1 ? token.ToString() : "";
        }

        // Behind a reverse proxy on this machine every sender looks local; TrustLoopback off makes every source need its credential.
        var remote = http.Connection.RemoteIpAddress;
        var local = remote is not null && IPAddress.IsLoopback(remote) && options.Value.Access.TrustLoopback;

        // Whoever cannot show a credential is refused before a byte of the body is read, however large it claims to be.
        if (authenticator.AuthenticateHeaders(alertSource, new WebhookRequest(ReadOnlyMemory<byte>.Empty, http.Request.ContentType, headers, query), local) is { } refused)
        {
            // Without the challenge, senders that keep basic credentials in the URL (Amazon SNS) never send them.
            if (refused.StatusCode == 401 && authenticator.BasicChallenge(alertSource) is { } challenge)
            {
                http.Response.Headers.WWWAuthenticate = challenge;
            }

            return (null, Answer(refused));
        }

        var (body, tooLarge) = await ReadLimitedAsync(http.Request, ingest.MaxBodyBytes, cancellationToken);
        return body is null ? (null, tooLarge) : (new WebhookRequest(body, http.Request.ContentType, headers, query), null);
    }

    private static IResult Answer(IngestResponse response) => Results.Json(response.Body, statusCode: response.StatusCode);

    /// <summary>
    /// The whole body, or the 413 to answer: refused at once when Content-Length says it is too large, and never read
    /// past the limit when it does not say (a chunked body). Every webhook endpoint reads through this.
    /// </summary>
    internal static async Task<(byte[]? Body, IResult? TooLarge)> ReadLimitedAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, Answer(new IngestResponse(413, new { error = $"the body is {request.ContentLength} bytes; the limit is {limit}" })));
        }

        return await ReadBoundedAsync(request.Body, limit, cancellationToken) is { } body
            ? (body, null)
            : (null, Answer(new IngestResponse(413, new { error = $"the body is larger than the limit of {limit} bytes" })));
    }

    private static async Task<byte[]?> ReadBoundedAsync(Stream body, long limit, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                return buffer.WrittenSpan.ToArray();
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > limit)
            {
                return null;
            }
        }
    }
}
