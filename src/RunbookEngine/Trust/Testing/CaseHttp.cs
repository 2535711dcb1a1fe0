using System.Net;
using System.Net.Http.Headers;

namespace RunbookEngine.Trust.Testing;

/// <summary>Answers a case's HTTP requests from its stubs; nothing goes to the network.</summary>
internal sealed class CaseHttp(IReadOnlyList<HttpStub> stubs, List<CaseFailure> unstubbed, int line, Func<string?> step) : HttpMessageHandler
{
    private readonly StubQueue<HttpStub> _stubs = new(stubs);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var method = request.Method.Method;
        var url = request.RequestUri?.ToString() ?? "";
        if (_stubs.Take(stub => stub.Answers(method, url)) is not { } stub)
        {
            var message = $"no stub for the request `{method} {url}`{(step() is { } name ? $" in step '{name}'" : " (outside any step)")}; add it under http: with url: or match:";
            lock (unstubbed)
            {
                unstubbed.Add(new CaseFailure(message, line));
            }

            throw new UnstubbedCallException(message);
        }

        if (stub.Status == 0)
        {
            // A recorded exchange that got no answer (refused, timed out) plays back as the same kind of failure.
            throw new HttpRequestException($"the case's stub for {method} {url} gives no answer{(stub.Body.Length > 0 ? ": " + stub.Body : "")}");
        }

        var content = new StringContent(stub.Body);
        content.Headers.ContentType = stub.ContentType is { } type && MediaTypeHeaderValue.TryParse(type, out var parsed) ? parsed : null;
        return Task.FromResult(new HttpResponseMessage((HttpStatusCode)stub.Status) { Content = content, RequestMessage = request });
    }
}
