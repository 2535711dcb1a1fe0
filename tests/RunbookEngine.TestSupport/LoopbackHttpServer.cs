using System.Net;

namespace RunbookEngine.TestSupport;

/// <summary>
/// An HTTP server on 127.0.0.1 for the fakes at the tests' true boundaries (a vendor's API, a trace collector, a host
/// the CLI talks to): each request goes to <see cref="HandleAsync"/>, one at a time, until the server is disposed.
/// <see cref="HttpListener"/>, not Kestrel, so a test project needs no ASP.NET Core to use one.
/// </summary>
public abstract class LoopbackHttpServer : IAsyncDisposable
{
    private HttpListener _listener = new();
    private Task _serving = Task.CompletedTask;

    /// <summary>A server on a free loopback port, not yet serving.</summary>
    protected LoopbackHttpServer()
    {
        Address = new Uri($"http://127.0.0.1:{Loopback.FreePort()}/");
        _listener.Prefixes.Add(Address.ToString());
    }

    /// <summary>The server's base address (final once it listens).</summary>
    public Uri Address { get; private set; }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
        {
            // Stopping the listener ends a pending accept with one of these.
        }

        await DisposeResourcesAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases what a derived server holds besides its listener, once it has stopped serving.</summary>
    /// <returns>A task that completes when they are released.</returns>
    protected virtual ValueTask DisposeResourcesAsync() => ValueTask.CompletedTask;

    /// <summary>
    /// Reads <paramref name="read"/> every 50 ms until <paramref name="complete"/> holds, for at most
    /// <paramref name="limit"/>; then throws a <see cref="TimeoutException"/> with <paramref name="failure"/>'s text.
    /// </summary>
    /// <typeparam name="T">What is read.</typeparam>
    /// <param name="read">What the server has received so far.</param>
    /// <param name="complete">When it holds everything awaited.</param>
    /// <param name="limit">How long to wait.</param>
    /// <param name="failure">The message, given the last read.</param>
    /// <returns>The read that held.</returns>
    protected static async Task<T> UntilAsync<T>(Func<T> read, Func<T, bool> complete, TimeSpan limit, Func<T, string> failure)
    {
        ArgumentNullException.ThrowIfNull(read);
        ArgumentNullException.ThrowIfNull(complete);
        ArgumentNullException.ThrowIfNull(failure);
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            var value = read();
            if (complete(value))
            {
                return value;
            }

            if (TimeProvider.System.GetElapsedTime(started) > limit)
            {
                throw new TimeoutException(failure(value));
            }

            await tick.WaitForNextTickAsync();
        }
    }

    /// <summary>Starts serving; a derived class calls it once its own state is set up.</summary>
    protected void Listen()
    {
        // A free port can be taken between asking and binding (by another test's server, or a client's connection in
        // TIME_WAIT, which the probe's SO_REUSEADDR ignores): another port is tried.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                _listener.Close();
                Address = new Uri($"http://127.0.0.1:{Loopback.FreePort()}/");
                _listener = new HttpListener();
                _listener.Prefixes.Add(Address.ToString());
            }
        }

        _serving = ServeAsync();
    }

    /// <summary>Answers one request; the response is closed after it.</summary>
    /// <param name="context">The request and its response.</param>
    /// <returns>A task that completes when the answer is written.</returns>
    protected abstract Task HandleAsync(HttpListenerContext context);

    /// <summary>Writes a response's body; a client that went away mid-answer (a host that stopped reading an archive at its cap) is no fault.</summary>
    /// <param name="response">The response.</param>
    /// <param name="body">The body.</param>
    /// <returns>A task that completes when the body is written or the client has gone.</returns>
    protected static async Task WriteBodyAsync(HttpListenerResponse response, byte[] body)
    {
        ArgumentNullException.ThrowIfNull(response);
        try
        {
            await response.OutputStream.WriteAsync(body);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException)
        {
            // Serve the next one.
        }
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            // A handler's own fault ends serving and fails the test at disposal; only writing may meet a client gone.
            await HandleAsync(context);
            try
            {
                context.Response.Close();
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The client went away mid-answer.
            }
        }
    }
}
