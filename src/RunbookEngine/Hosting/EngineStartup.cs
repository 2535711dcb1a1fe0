using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Storage;

namespace RunbookEngine.Hosting;

/// <summary>
/// Brings the engine up before the scheduler starts executing: the store's schema, a warm compiler, the catalog.
/// Hosted services start in registration order and the scheduler starts after the host has started, so no run is
/// picked up before its runbook is loaded.
/// </summary>
internal sealed partial class EngineStartup(IRunStore store, RunbookCompiler compiler, RunbookCatalog catalog, ScheduleSync schedules, ILogger<EngineStartup> logger) : IHostedService
{
    public bool IsReady { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.MigrateAsync(cancellationToken);
        await catalog.LoadAsync(cancellationToken);
        var valid = catalog.Entries.Count(e => e.IsValid);
        LogLoaded(valid, catalog.Entries.Count, catalog.Root);
        foreach (var entry in catalog.Entries.Where(e => !e.IsValid))
        {
            LogInvalid(entry.Name, string.Join("; ", entry.Diagnostics.Where(d => d.IsError)));
        }

        await schedules.SyncAsync(cancellationToken);

        // Later compiles (new commits) then cost milliseconds instead of Roslyn's first-use second.
        _ = WarmUpAsync();
        IsReady = true;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WarmUpAsync()
    {
        try
        {
            await compiler.WarmUpAsync(CancellationToken.None);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // A cold compiler only makes the next compile slower; say so and carry on.
            LogWarmUpFailed(ex);
        }
    }

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Warming up the runbook compiler failed; the next compile will be slower")]
    private partial void LogWarmUpFailed(Exception exception);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Loaded {Valid} of {Total} runbooks from {Folder}")]
    private partial void LogLoaded(int valid, int total, string folder);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Runbook {Runbook} cannot run: {Errors}")]
    private partial void LogInvalid(string runbook, string errors);
}
