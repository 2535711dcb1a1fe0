using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace RunbookEngine.TestSupport;

/// <summary>
/// A receiver of outbound webhooks (or a Teams Workflows URL) on 127.0.0.1: records every request it takes, headers and
/// body, and answers 200, or 503 while <see cref="Down"/> is set, as a receiver that is away would.
/// </summary>
public sealed class WebhookReceiver : LoopbackHttpServer
{
    private readonly ConcurrentQueue<ReceivedRequest> _received = new();
    private int _refused;

    private WebhookReceiver()
    {
    }

    /// <summary>While true, every request gets 503 and is not recorded as received.</summary>
    public bool Down { get; set; }

    /// <summary>How many requests it refused while down.</summary>
    public int Refused => Volatile.Read(ref _refused);

    /// <summary>What it took so far, in order.</summary>
    public IReadOnlyList<ReceivedRequest> Received => [.. _received];

    /// <summary>A receiver, serving.</summary>
    /// <param name="down">Whether it starts down.</param>
    /// <returns>The receiver.</returns>
    public static WebhookReceiver Start(bool down = false)
    {
        var receiver = new WebhookReceiver { Down = down };
        receiver.Listen();
        return receiver;
    }

    /// <summary>Waits until it has taken <paramref name="count"/> requests.</summary>
    /// <param name="count">How many.</param>
    /// <returns>What it took.</returns>
    public Task<IReadOnlyList<ReceivedRequest>> UntilReceivedAsync(int count) =>
        UntilAsync(() => Received, r => r.Count >= count, TimeSpan.FromMinutes(1), r => $"the receiver took {r.Count} requests, not {count} (refused {Refused})");

    /// <summary>Waits until it has refused at least <paramref name="count"/> requests.</summary>
    /// <param name="count">How many.</param>
    /// <returns>A task.</returns>
    public Task UntilRefusedAsync(int count) =>
        UntilAsync(() => Refused, r => r >= count, TimeSpan.FromMinutes(1), r => $"the receiver refused {r} requests, not {count}");

    /// <inheritdoc />
    protected override async Task HandleAsync(HttpListenerContext context)
    {
        using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
        var body = await reader.ReadToEndAsync();
        if (Down)
        {
            Interlocked.Increment(ref _refused);
            context.Response.StatusCode = 503;
            return;
        }

        var headers = context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k.ToLowerInvariant(), k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
        _received.Enqueue(new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body));
        context.Response.StatusCode = 200;
    }
}

/// <summary>A request a fake receiver took.</summary>
/// <param name="Method">The HTTP method.</param>
/// <param name="Path">The path.</param>
/// <param name="Headers">Its headers, by lower-case name.</param>
/// <param name="Body">Its body, as text.</param>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);
