using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>
/// The pipeline under <see cref="RunbookContext.Http"/>: the run's mode decides whether a request may go, the step's
/// token bounds it, and the exchange is kept in the step's output and reported for recording.
/// </summary>
internal sealed class RunbookHttpHandler(RunbookContext context, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>The most characters of a response body kept for a recorded test case.</summary>
    internal const int MaxRecordedBody = 64 * 1024;

    /// <summary>The largest body of known length that is buffered rather than streamed.</summary>
    private const long MaxBufferedBody = 1024 * 1024;

    /// <summary>
    /// One network handler for every run: a handler per run would leave its connections open until a collection.
    /// Redirects are not followed, so an alert-supplied URL cannot send the host somewhere it was not asked to go; and no
    /// proxy is used, so a request a runbook checked against its allowed hosts leaves from this host, not from a proxy.
    /// </summary>
    internal static readonly HttpMessageHandler Network = new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        UseProxy = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
    };

    private static readonly HashSet<string> ReadOnlyMethods = new(StringComparer.OrdinalIgnoreCase) { "GET", "HEAD", "OPTIONS", "TRACE" };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var method = request.Method.Method;
        // The original string, not ToString(): ToString() re-escapes some characters, so a token the script
        // percent-encoded would not match the spellings the redactor knows.
        var url = context.Redactor.Redact(request.RequestUri?.OriginalString ?? "");
        var display = $"{method} {url}";
        if (!ReadOnlyMethods.Contains(method))
        {
            await context.BeforeSideEffectAsync("http", display);
        }

        var step = context.StepSequence;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, context.StepToken);
        var watch = Stopwatch.StartNew();
        HttpResponseMessage response;
        try
        {
            response = await base.SendAsync(request, linked.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException)
        {
            context.StepOutput($"{display} failed after {Durations.Format(watch.Elapsed)}: {ex.Message}");
            context.Calls?.Http(step, new HttpCall(method, url, 0, context.Redactor.Redact(ex.Message), null, watch.Elapsed));
            throw;
        }

        context.StepOutput($"{display} answered {(int)response.StatusCode} after {Durations.Format(watch.Elapsed)}");
        if (context.Calls is { } calls)
        {
            var length = response.Content.Headers.ContentLength;
            if (method == "HEAD" || length is <= MaxBufferedBody)
            {
                // Small and of known size: buffered so the runbook still reads the whole body after the copy kept for recording.
                await response.Content.LoadIntoBufferAsync(linked.Token);
                var body = await response.Content.ReadAsStringAsync(linked.Token);
                if (body.Length > MaxRecordedBody)
                {
                    body = body[..MaxRecordedBody];
                }

                calls.Http(step, new HttpCall(method, url, (int)response.StatusCode, context.Redactor.Redact(body), MediaType(response.Content.Headers.ContentType), watch.Elapsed));
            }
            else
            {
                // Large, unknown or endless (a download, a watch, server-sent events): passed through as it arrives, keeping
                // only its start, and reported when the runbook reaches its end or lets it go.
                var original = response.Content;
                var status = (int)response.StatusCode;
                var inner = await original.ReadAsStreamAsync(linked.Token);
                var recording = new RecordingStream(inner, MaxRecordedBody, kept =>
                    calls.Http(step, new HttpCall(method, url, status, context.Redactor.Redact(Decode(kept, original.Headers.ContentType)), MediaType(original.Headers.ContentType), watch.Elapsed)));
                var passed = new StreamContent(recording);
                foreach (var header in original.Headers)
                {
                    passed.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                response.Content = passed;
            }
        }

        return response;
    }

    private static string Decode(ReadOnlySpan<byte> kept, MediaTypeHeaderValue? header)
    {
        var encoding = Encoding.UTF8;
        if (header?.CharSet is { Length: > 0 } charset)
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // An unknown charset is read as UTF-8, as it would be in the step output.
            }
        }

        var text = encoding.GetString(kept);
        return text.Length > MaxRecordedBody ? text[..MaxRecordedBody] : text;
    }

    private static string? MediaType(MediaTypeHeaderValue? header) => header?.MediaType;
}
