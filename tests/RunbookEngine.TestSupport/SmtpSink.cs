using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MimeKit;

namespace RunbookEngine.TestSupport;

/// <summary>
/// An SMTP server on 127.0.0.1 that accepts every message in plain text (no TLS), parses it with MimeKit and keeps it,
/// as a local relay would; enough of RFC 5321 for MailKit's client.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly ConcurrentQueue<MimeMessage> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;

    private SmtpSink()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _serving = ServeAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>The messages taken so far.</summary>
    public IReadOnlyList<MimeMessage> Messages => [.. _messages];

    /// <summary>A sink, serving.</summary>
    /// <returns>The sink.</returns>
    public static SmtpSink Start() => new();

    /// <summary>Waits until it has taken <paramref name="count"/> messages.</summary>
    /// <param name="count">How many.</param>
    /// <returns>The messages.</returns>
    public async Task<IReadOnlyList<MimeMessage>> UntilReceivedAsync(int count)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (Messages.Count < count)
        {
            if (TimeProvider.System.GetElapsedTime(started) > TimeSpan.FromMinutes(1))
            {
                throw new TimeoutException($"the SMTP sink took {Messages.Count} messages, not {count}");
            }

            await tick.WaitForNextTickAsync();
        }

        return Messages;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _serving;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopping the listener ends a pending accept with one of these.
        }

        _stop.Dispose();
    }

    private async Task ServeAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            using var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            try
            {
                await ConverseAsync(client.GetStream(), _stop.Token);
            }
            catch (IOException)
            {
                // A client that hung up mid-conversation; the next one is served.
            }
        }
    }

    private async Task ConverseAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await using var writer = new StreamWriter(stream, Encoding.ASCII) { NewLine = "\r\n", AutoFlush = true };
        await writer.WriteLineAsync("220 sink ESMTP");
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            var verb = line.Split(' ', 2)[0].ToUpperInvariant();
            switch (verb)
            {
                case "EHLO":
                    await writer.WriteLineAsync("250-sink");
                    await writer.WriteLineAsync("250 8BITMIME");
                    break;
                case "DATA":
                    await writer.WriteLineAsync("354 end with <CRLF>.<CRLF>");
                    var data = new StringBuilder();
                    while (await reader.ReadLineAsync(cancellationToken) is { } dataLine && dataLine != ".")
                    {
                        data.Append(dataLine.StartsWith("..", StringComparison.Ordinal) ? dataLine[1..] : dataLine).Append("\r\n");
                    }

                    using (var raw = new MemoryStream(Encoding.UTF8.GetBytes(data.ToString())))
                    {
                        _messages.Enqueue(await MimeMessage.LoadAsync(raw, cancellationToken));
                    }

                    await writer.WriteLineAsync("250 queued");
                    break;
                case "QUIT":
                    await writer.WriteLineAsync("221 bye");
                    return;
                default:
                    await writer.WriteLineAsync("250 ok");
                    break;
            }
        }
    }
}
