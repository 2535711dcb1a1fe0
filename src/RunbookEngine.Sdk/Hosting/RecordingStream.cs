namespace RunbookEngine.Sdk.Hosting;

/// <summary>
/// A response body passed through to the runbook as it arrives, keeping its first bytes for recording; the kept bytes
/// are reported once, when the reader reaches the end or disposes the stream.
/// </summary>
internal sealed class RecordingStream(Stream inner, int keep, Action<byte[]> report) : Stream
{
    // The start of the body, up to keep bytes: a recorded case needs the shape of the answer, not a whole download.
    private readonly MemoryStream _kept = new();

    // 0 until reported; reporting twice would record the call twice.
    private int _reported;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var read = inner.Read(buffer);
        Keep(buffer[..read], buffer.IsEmpty);
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await inner.ReadAsync(buffer, cancellationToken);
        Keep(buffer.Span[..read], buffer.IsEmpty);
        return read;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Report();
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        Report();
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }

    private void Keep(ReadOnlySpan<byte> read, bool askedForNothing)
    {
        if (read.IsEmpty && !askedForNothing)
        {
            Report();
            return;
        }

        var room = keep - (int)_kept.Length;
        if (room > 0 && !read.IsEmpty)
        {
            _kept.Write(read[..Math.Min(room, read.Length)]);
        }
    }

    private void Report()
    {
        if (Interlocked.Exchange(ref _reported, 1) == 0)
        {
            report(_kept.ToArray());
        }
    }
}
