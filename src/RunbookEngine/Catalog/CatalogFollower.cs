using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Storage;

namespace RunbookEngine.Catalog;

/// <summary>
/// Keeps the catalog current. A local folder is watched and reloaded once it has been quiet for the debounce; a Git
/// remote (or a GitHub repository through its API) is fetched on an interval and on request (a push webhook, the sync API). In a cluster, the node that moves to a
/// new commit records it, and the others follow that commit within seconds, so every node serves the same one.
/// </summary>
public sealed partial class CatalogFollower(
    RunbookCatalog catalog,
    IVersionStore versions,
    NodeIdentity node,
    IOptions<RunbookEngineOptions> options,
    IServiceProvider services,
    TimeProvider time,
    ILogger<CatalogFollower> logger) : BackgroundService
{
    private static readonly TimeSpan ClusterPoll = TimeSpan.FromSeconds(2);

    // The last sync's error, so a sync that keeps failing is told once rather than at every fetch.
    private string? _lastSyncError;

    private readonly Channel<TaskCompletionSource<CatalogChange>?> _requests = Channel.CreateUnbounded<TaskCompletionSource<CatalogChange>?>();

    /// <summary>Asks for a sync soon (a push webhook); returns at once.</summary>
    public void RequestSync() => _requests.Writer.TryWrite(null);

    /// <summary>Syncs now and says what changed.</summary>
    /// <param name="cancellationToken">Cancels the wait (not the sync).</param>
    /// <returns>What changed.</returns>
    public async Task<CatalogChange> SyncNowAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource<CatalogChange>(TaskCreationOptions.RunContinuationsAsynchronously);
        _requests.Writer.TryWrite(done);
        return await done.Task.WaitAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Catalog;
        using var watcher = catalog.SourceKind == "folder" ? Watch(catalog.Root) : null;
        var tasks = new List<Task> { ServeRequestsAsync(stoppingToken) };
        if (catalog.SourceKind == "folder")
        {
            tasks.Add(PollFolderAsync(catalog.Root, stoppingToken));
            LogFollowingFolder(catalog.Root, watcher is null ? "off" : "on");

            // This service starts on the thread pool some time after the catalog's first load, so a file saved in
            // between is neither an event nor a difference in the listing: one sync now catches it. Unchanged files
            // are not compiled again, so this costs a read of the folder.
            RequestSync();
        }

        if (catalog.FollowsCommits)
        {
            tasks.Add(FetchPeriodicallyAsync(settings.Git.FetchInterval, stoppingToken));
            tasks.Add(FollowClusterAsync(stoppingToken));

            // The commit of the first load is reported too; after a restart GitHub already has its check and keeps it.
            if (catalog.Revision?.Commit is { } loaded && LastLoadError() is null)
            {
                Checks()?.Report(CatalogChange.None(loaded, null), catalog.Entries, firstLoad: true);
            }
        }

        try
        {
            await Task.WhenAll(tasks);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task ServeRequestsAsync(CancellationToken stoppingToken)
    {
        var debounce = options.Value.Catalog.WatchDebounce;
        while (await _requests.Reader.WaitToReadAsync(stoppingToken))
        {
            // Let a burst of file events (an editor's save, a checkout) settle, then serve every request with one sync.
            if (catalog.SourceKind == "folder" && debounce > TimeSpan.Zero)
            {
                await Task.Delay(debounce, time, stoppingToken);
            }

            var waiting = new List<TaskCompletionSource<CatalogChange>>();
            while (_requests.Reader.TryRead(out var request))
            {
                if (request is not null)
                {
                    waiting.Add(request);
                }
            }

            var change = await SyncAndApplyAsync(() => catalog.SyncAsync(stoppingToken), report: true, stoppingToken);
            foreach (var request in waiting)
            {
                request.TrySetResult(change);
            }
        }
    }

    private async Task FetchPeriodicallyAsync(TimeSpan interval, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            RequestSync();
        }
    }

    private async Task FollowClusterAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ClusterPoll, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                if (await versions.GetCatalogCommitAsync(stoppingToken) is { } commit && commit != catalog.Revision?.Commit)
                {
                    // Another node fetched and validated this commit, and reports it to GitHub: following it is all that is left.
                    await SyncAndApplyAsync(() => catalog.FollowAsync(commit, stoppingToken), report: false, stoppingToken);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFollowFailed(ex);
            }
        }
    }

    private GitHub.GitHubChecks? Checks() => services.GetService(typeof(GitHub.GitHubChecks)) as GitHub.GitHubChecks;

    private string? LastLoadError() => catalog.LastSync.Error;

    /// <summary>
    /// Writes a sync that started failing, and each runbook whose new version does not compile, to the notifications
    /// outbox. A sync that keeps failing is told once, when it starts; each node tells what it saw itself.
    /// </summary>
    private async Task NotifyAsync(CatalogChange change, CancellationToken stoppingToken)
    {
        var wasFailing = _lastSyncError is not null;
        _lastSyncError = change.Error;
        if (services.GetService(typeof(INotificationStore)) is not INotificationStore outbox)
        {
            return;
        }

        try
        {
            if (change.Error is { } error && !wasFailing)
            {
                await outbox.AddNotificationAsync(NotifyEvents.CatalogBroken, null, $"catalog sync failed on {node.Id}: {error}", stoppingToken);
            }

            foreach (var runbook in change.Failed)
            {
                var problems = catalog.Find(runbook) is { } entry
                    ? (entry.Problem?.Diagnostics ?? entry.Diagnostics).Where(d => d.IsError).Select(d => d.ToString())
                    : [];
                await outbox.AddNotificationAsync(
                    NotifyEvents.CatalogBroken, runbook, $"{runbook} at {change.Commit ?? "the folder"} does not compile: {string.Join("; ", problems.Take(5))}", stoppingToken);
            }
        }
        catch (System.Data.Common.DbException ex)
        {
            // The catalog moves on regardless; losing this message is better than holding up every later sync.
            LogFollowFailed(ex);
        }
    }

    private async Task<CatalogChange> SyncAndApplyAsync(Func<Task<CatalogChange>> sync, bool report, CancellationToken stoppingToken)
    {
        // Nothing may escape: this loop serves every later sync, and a fault here would end it silently.
        try
        {
            var change = await sync();
            if (report)
            {
                await NotifyAsync(change, stoppingToken);
            }

            // Schedules follow the runbooks; a removed runbook takes its cron trigger with it.
            if (change.Changed && services.GetService(typeof(ScheduleSync)) is ScheduleSync schedules)
            {
                await schedules.SyncAsync(stoppingToken);
            }

            if (catalog.FollowsCommits && change.Error is null && change.Commit is { } commit)
            {
                await versions.SetCatalogCommitAsync(commit, node.Id, stoppingToken);

                // Queued, not posted: GitHub's answer (or silence) never holds up the catalog. The entries are read only
                // while the catalog is still at this commit, so the check describes exactly that commit.
                if (report && catalog.Revision?.Commit == commit)
                {
                    Checks()?.Report(change, catalog.Entries);
                }
            }

            return change;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogFollowFailed(ex);
            return CatalogChange.None(catalog.Revision?.Commit, ex.Message);
        }
    }

    /// <summary>
    /// The safety net under the watcher: file events are not delivered on every file system (network mounts) and
    /// cannot be had at all once the machine's inotify instances run out, so the folder's listing is also compared
    /// every second, which for a folder of runbooks costs next to nothing.
    /// </summary>
    private async Task PollFolderAsync(string root, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FolderPoll, time);
        var last = Listing(root);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = Listing(root);
            if (now != last)
            {
                last = now;
                RequestSync();
            }
        }
    }

    private static readonly TimeSpan FolderPoll = TimeSpan.FromSeconds(1);

    private static string Listing(string root)
    {
        try
        {
            var listing = new System.Text.StringBuilder();
            foreach (var file in new DirectoryInfo(root).EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal))
            {
                listing.Append(file.FullName).Append('|').Append(file.Length).Append('|').Append(file.LastWriteTimeUtc.Ticks).Append('\n');
            }

            return listing.ToString();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return "";
        }
    }

    private FileSystemWatcher? Watch(string root)
    {
        if (!Directory.Exists(root))
        {
            return null;
        }

        try
        {
            return StartWatcher(root);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Typically "the configured user limit on the number of inotify instances has been reached".
            LogWatchFailed(ex);
            return null;
        }
    }

    private FileSystemWatcher StartWatcher(string root)
    {
        var watcher = new FileSystemWatcher(root)
        {
            IncludeSubdirectories = true,
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size,
        };
        FileSystemEventHandler changed = (_, _) => RequestSync();
        watcher.Changed += changed;
        watcher.Created += changed;
        watcher.Deleted += changed;
        watcher.Renamed += (_, _) => RequestSync();
        watcher.Error += (_, e) => LogWatchFailed(e.GetException());
        watcher.EnableRaisingEvents = true;
        return watcher;
    }

    [LoggerMessage(EventId = 612, Level = LogLevel.Information, Message = "Following the runbook folder {Folder} (file watcher {Watching}, listing polled every second)")]
    private partial void LogFollowingFolder(string folder, string watching);

    [LoggerMessage(EventId = 610, Level = LogLevel.Error, Message = "Following the runbook source failed; the current versions keep serving")]
    private partial void LogFollowFailed(Exception exception);

    [LoggerMessage(EventId = 611, Level = LogLevel.Warning, Message = "The runbook folder watcher failed; changes are still picked up by polling the folder every second")]
    private partial void LogWatchFailed(Exception exception);
}
