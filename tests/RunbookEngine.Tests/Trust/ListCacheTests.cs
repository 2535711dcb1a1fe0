using System.Data.Common;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Trust;

namespace RunbookEngine.Tests.Trust;

public sealed class ListCacheTests
{
    private readonly FakeTimeProvider _time = new();

    private int _reads;

    [Fact]
    public async Task GetAsync_ReusesTheLastRead_WhileItIsYoungerThanTheLifetime()
    {
        var cache = new ListCache<string>(() => TimeSpan.FromSeconds(30), _time);

        var first = await cache.GetAsync(ReadAsync, default);
        _time.Advance(TimeSpan.FromSeconds(29));
        var young = await cache.GetAsync(ReadAsync, default);
        _time.Advance(TimeSpan.FromSeconds(1));
        var expired = await cache.GetAsync(ReadAsync, default);

        Assert.Equal(("read 1", "read 1", "read 2"), (first, young, expired));
    }

    [Fact]
    public async Task GetAsync_ReadsEveryTime_WhenTheLifetimeIsZero()
    {
        var cache = new ListCache<string>(() => TimeSpan.Zero, _time);

        await cache.GetAsync(ReadAsync, default);
        var second = await cache.GetAsync(ReadAsync, default);

        Assert.Equal("read 2", second);
    }

    [Fact]
    public async Task GetAsync_KeepsNothingOfAFailedRead_SoTheNextRequestAsksAgain()
    {
        var cache = new ListCache<string>(() => TimeSpan.FromSeconds(30), _time);

        await Assert.ThrowsAsync<StoreAway>(() => cache.GetAsync(_ => throw new StoreAway(), default));
        var after = await cache.GetAsync(ReadAsync, default);

        Assert.Equal("read 1", after);
    }

    private Task<string> ReadAsync(CancellationToken cancellationToken) => Task.FromResult($"read {++_reads}");

    private sealed class StoreAway : DbException;
}
