namespace RunbookEngine.Sdk.Tests;

public sealed class HttpRecordingTests
{
    [Fact]
    public async Task ALargeChunkedResponse_IsStreamedIntact_AndItsStartRecorded()
    {
        var body = new byte[3 * 1024 * 1024];
        for (var i = 0; i < body.Length; i++)
        {
            body[i] = (byte)('a' + (i % 26));
        }

        var calls = new CollectingCalls();
        // A StreamContent over a non-seekable stream has no Content-Length, as a chunked response has none.
        var server = new AnsweringHandler(_ => new StreamContent(new GatedStream(body, gate: null)));
        var context = Some.Context(http: server, calls: calls);

        var read = await context.Http.GetByteArrayAsync(new Uri("http://service.test/dump"));

        Assert.Equal(body, read);
        var recorded = calls.Http.Single();
        Assert.Equal(64 * 1024, recorded.Body.Length);
        Assert.Equal(System.Text.Encoding.ASCII.GetString(body, 0, 64 * 1024), recorded.Body);
    }

    [Fact]
    public async Task AResponseHeadersReadRequest_ReturnsBeforeTheBodyEnds_AndIsRecordedAtItsEnd()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var calls = new CollectingCalls();
        var server = new AnsweringHandler(_ => new StreamContent(new GatedStream("data: first\n\n"u8.ToArray(), gate.Task)));
        var context = Some.Context(http: server, calls: calls);

        using var response = await context.Http.GetAsync(new Uri("http://service.test/events"), HttpCompletionOption.ResponseHeadersRead);
        var stream = await response.Content.ReadAsStreamAsync();
        var buffer = new byte[64];
        var first = await stream.ReadAsync(buffer);
        var recordedBeforeTheEnd = calls.Http.Count;
        gate.SetResult();
        var rest = await stream.ReadAsync(buffer.AsMemory(first));

        Assert.Equal(("data: first\n\n", 0, 0), (System.Text.Encoding.UTF8.GetString(buffer, 0, first), recordedBeforeTheEnd, rest));
        Assert.Equal("data: first\n\n", calls.Http.Single().Body);
    }

    [Fact]
    public async Task ASmallResponseOfKnownLength_IsBufferedAndRecordedAtOnce()
    {
        var calls = new CollectingCalls();
        var server = new AnsweringHandler(_ => new StringContent("{\"ok\":true}"));
        var context = Some.Context(http: server, calls: calls);

        using var response = await context.Http.GetAsync(new Uri("http://service.test/health"), HttpCompletionOption.ResponseHeadersRead);

        Assert.Equal("{\"ok\":true}", calls.Http.Single().Body);
        Assert.Equal("{\"ok\":true}", await response.Content.ReadAsStringAsync());
    }

    /// <summary>A response body that hands out its bytes, then holds its end until the gate opens, like a server still sending.</summary>
    private sealed class GatedStream(byte[] bytes, Task? gate) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("read asynchronously");

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == bytes.Length && gate is not null)
            {
                await gate.WaitAsync(cancellationToken);
            }

            // Small pieces, as chunks arrive.
            var count = Math.Min(Math.Min(buffer.Length, 8192), bytes.Length - _position);
            bytes.AsMemory(_position, count).CopyTo(buffer);
            _position += count;
            return count;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
