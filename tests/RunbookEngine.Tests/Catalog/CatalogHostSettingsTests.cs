using Microsoft.Extensions.Logging.Abstractions;
using RunbookEngine.Catalog;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Storage;
using RunbookEngine.Tests.Runs;

namespace RunbookEngine.Tests.Catalog;

/// <summary>
/// A node that lacks a setting a runbook names (an SLO) refuses to serve it, but the version store, shared by every
/// node, records the version as it compiled: another node that has the SLO must not read it as broken.
/// </summary>
public sealed class CatalogHostSettingsTests : IAsyncLifetime
{
    private const string Gated = """
        // ---
        // description: Restarts checkout, asking first when its error budget is low
        // budget_gate: { slo: checkout, below: 10%, then: confirm }
        // ---
        await Step("restart", ct => Task.CompletedTask);
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-hostsettings-").FullName;
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;

    public async Task InitializeAsync()
    {
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), TimeProvider.System);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(_folder, "data", "compiled"));
        var runbooks = Directory.CreateDirectory(Path.Combine(_folder, "runbooks")).FullName;
        await File.WriteAllTextAsync(Path.Combine(runbooks, "restart.csx"), Gated);
    }

    public async Task DisposeAsync()
    {
        _compiler.Dispose();
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task LoadAsync_OnANodeWithoutTheSlo_RefusesTheRunbook_ButRecordsTheVersionAsCompiled()
    {
        CatalogEntry refused;
        using (var without = Catalog(knows: false))
        {
            await without.LoadAsync(CancellationToken.None);
            refused = without.Find("restart")!;
        }

        Assert.False(refused.IsValid);
        Assert.Contains(refused.Diagnostics, d => d.Code == "RB110" && d.Message.Contains("no SLO 'checkout' is configured on this host", StringComparison.Ordinal));
        var version = await _store.GetVersionAsync("restart", refused.ContentHash, CancellationToken.None);
        Assert.Equal((true, 0), (version!.Valid, version.Errors.Count));

        using var with = Catalog(knows: true);
        await with.LoadAsync(CancellationToken.None);
        Assert.True(with.Find("restart")!.IsValid, string.Join("; ", with.Find("restart")!.Diagnostics));
    }

    private RunbookCatalog Catalog(bool knows) =>
        new(new OneFolder(Path.Combine(_folder, "runbooks")), _compiler, _store, Path.Combine(_folder, "data"), TimeProvider.System, NullLogger<RunbookCatalog>.Instance)
        {
            KnowsSlo = _ => knows,
        };
}
