namespace RunbookEngine.Trust;

/// <summary>
/// One store read shared by every list of runbooks on this host for <see cref="TrustOptions.ListCacheFor"/>: the list,
/// the dashboard's table and each <c>/metrics</c> scrape would otherwise each group every run and alert decision.
/// </summary>
/// <remarks>
/// Not shared across nodes, and a read that fails is not kept, so the next request asks the store again. Concurrent
/// requests past expiry may both read; the cost is one extra read, not a lock on every request.
/// </remarks>
/// <typeparam name="T">What is read.</typeparam>
internal sealed class ListCache<T>(Func<TimeSpan> lifetime, TimeProvider time)
    where T : class
{
    // The last successful read and when it was taken; replaced whole, so readers never see half of one.
    private (T Value, DateTimeOffset ReadAt)? _last;

    /// <summary>The last read while it is young enough, otherwise a new one.</summary>
    /// <param name="read">Reads from the store.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The value.</returns>
    public async Task<T> GetAsync(Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var keep = lifetime();
        if (keep > TimeSpan.Zero && _last is { } last && now - last.ReadAt < keep)
        {
            return last.Value;
        }

        var value = await read(cancellationToken);
        _last = (value, now);
        return value;
    }
}
