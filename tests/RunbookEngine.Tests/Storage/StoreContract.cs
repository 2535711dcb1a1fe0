using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

/// <summary>A fresh, migrated store per test on a fake clock; each contract's backends say how to make one.</summary>
public abstract class StoreContract : IAsyncLifetime
{
    protected FakeTimeProvider Time { get; } = new(DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));

    protected SqlRunStore Store { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Store = await CreateStoreAsync();
        await Store.MigrateAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await Store.DisposeAsync();

    protected abstract Task<SqlRunStore> CreateStoreAsync();
}
