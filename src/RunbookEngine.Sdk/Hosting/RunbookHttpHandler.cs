using System.Diagnostics;
using System.Net.Http.Headers;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>
/// The pipeline under <see cref="RunbookContext.Http"/>: the run's mode decides whether a request may go, the step's
/// token bounds it, and the exchange is kept in the step's output and reported for recording.
/// </summary>
internal sealed class RunbookHttpHandler(RunbookContext context, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    /// <summary>The most characters of a response body kept for a recorded test case.</summary>
    internal const int MaxRecordedBody = 64 * 1024;

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
            // Buffered so the runbook still reads the whole body after the copy kept for recording.
            await response.Content.LoadIntoBufferAsync(linked.Token);
            var body = await response.Content.ReadAsStringAsync(linked.Token);
            if (body.Length > MaxRecordedBody)
            {
                body = body[..MaxRecordedBody];
            }

            calls.Http(step, new HttpCall(method, url, (int)response.StatusCode, context.Redactor.Redact(body), MediaType(response.Content.Headers.ContentType), watch.Elapsed));
        }

        return response;
    }

    private static string? MediaType(MediaTypeHeaderValue? header) => header?.MediaType;
}
