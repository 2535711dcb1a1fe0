using System.Collections.Concurrent;
using System.Data.Common;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scheduling;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.GameDays;

/// <summary>
/// Starts game days and runs them in the background on this node; keeps their heartbeats, and ends as Failed the game
/// days whose node stopped (this node's from before a restart at once, another node's once its heartbeat falls silent).
/// </summary>
/// <remarks>
/// A game day is not resumed after its node stops: the fault, the alert and the run went on without anyone timing
/// them, so the figures would be wrong. It is marked Failed with the phase it was in, and its restore is not run by
/// another node (restore acts on the node's own machine, which may be the one that is gone); the message says so.
/// </remarks>
public sealed partial class GameDayRunner(
    IGameDayStore store,
    IRunStore runs,
    RunEvents events,
    RunbookCatalog catalog,
    Alerts.CircuitBreakers breakers,
    IAlertStore alerts,
    NodeIdentity node,
    IOptions<RunbookEngineOptions> options,
    TimeProvider time,
    ILogger<GameDayRunner> logger) : BackgroundService
{
    /// <summary>How often this node renews its game days' heartbeats and looks for abandoned ones.</summary>
    internal static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(5);

    /// <summary>A running game day whose heartbeat is older than this lost its node.</summary>
    /// <remarks>
    /// A heartbeat is written with its node's clock and read against another node's, so the bound also covers the
    /// clocks' skew: two minutes, against a 5 s heartbeat, takes a game day for abandoned only when its node is gone or
    /// its clock is off by more than a minute and a half (NTP keeps servers within milliseconds).
    /// </remarks>
    internal static readonly TimeSpan Silence = TimeSpan.FromMinutes(2);

    // The game days this node runs, by id, so the heartbeat knows them and shutdown can wait for their restore.
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);

    // The same game days' executions, so a heartbeat that finds one taken over by another node can stop it.
    private readonly ConcurrentDictionary<string, GameDayExecution> _executions = new(StringComparer.Ordinal);

    // Cancelled as the host stops: running game days end Failed, after their restore.
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Starts a game day of a runbook: records it and runs it in the background.</summary>
    /// <param name="runbook">The runbook, which must have a <c>gameday:</c> block.</param>
    /// <param name="by">Who starts it.</param>
    /// <param name="cancellationToken">Cancels the request (not the game day).</param>
    /// <returns>The game day, or why it cannot start.</returns>
    public async Task<GameDayStart> StartGameDayAsync(string runbook, string by, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runbook);
        if (catalog.Find(runbook) is not { } entry)
        {
            return new GameDayStart(GameDayStartProblem.NotFound, null, $"no runbook '{runbook}'");
        }

        if (!entry.IsValid || entry.Definition is not { } definition)
        {
            var first = entry.Diagnostics.FirstOrDefault(d => d.IsError);
            return new GameDayStart(GameDayStartProblem.Invalid, null, $"runbook '{runbook}' is invalid, so it cannot fix anything{(first is null ? "" : ": " + first)}");
        }

        if (definition.GameDay is null)
        {
            return new GameDayStart(GameDayStartProblem.NoGameDay, null,
                $"runbook '{runbook}' has no `gameday:` block in its front matter: add one with `inject:` (a command that breaks what it fixes) and `verify:` (a command that exits 0 once the fault is gone)");
        }

        if (definition.Alerts.Count == 0)
        {
            return new GameDayStart(GameDayStartProblem.NoGameDay, null,
                $"runbook '{runbook}' has no `alerts:` rule, so no alert can start it; a game day measures the way from a fault through an alert to the fix");
        }

        // A fault is injected for real: refused here, before it is, whenever the alert's run would not fix it.
        if (await WhyNothingWouldFixAsync(runbook, definition, cancellationToken) is { } why)
        {
            return new GameDayStart(GameDayStartProblem.WouldNotFix, null, why);
        }

        var gameDay = await store.StartGameDayAsync(runbook, by, node.Id, cancellationToken);
        if (gameDay is null)
        {
            var running = (await store.ListGameDaysAsync(runbook, 5, cancellationToken)).FirstOrDefault(g => g.Status == GameDayStatus.Running);
            return new GameDayStart(GameDayStartProblem.Busy, running,
                running is null
                    ? $"a game day of '{runbook}' is already running; one at a time per runbook"
                    : $"game day {running.Id} of '{runbook}' (started by {running.StartedBy}) is still {GameDayExecution.Doing(running.Phase)}; one at a time per runbook");
        }

        LogStarted(gameDay.Id, runbook, by);
        var execution = new GameDayExecution(gameDay, definition, store, runs, events, time, logger);

        // Held until it is listed, so a game day that ends at once is not listed after it has taken itself off.
        var listed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _executions[gameDay.Id] = execution;
        _running[gameDay.Id] = Task.Run(async () =>
        {
            await listed.Task;
            try
            {
                await execution.RunAsync(_stopping.Token);
            }
            finally
            {
                _running.TryRemove(gameDay.Id, out _);
                _executions.TryRemove(gameDay.Id, out _);
            }
        }, CancellationToken.None);
        listed.SetResult();
        return new GameDayStart(GameDayStartProblem.None, gameDay, null);
    }

    private async Task<string?> WhyNothingWouldFixAsync(string runbook, Scripting.FrontMatter.RunbookDefinition definition, CancellationToken cancellationToken)
    {
        if (definition.Mode == RunMode.Shadow)
        {
            return $"runbook '{runbook}' is in `mode: shadow`: the alert's run would only propose its steps and the fault would stay; promote it to `confirm` or `auto` first";
        }

        // The stored state only: asking CheckAsync could open the breaker, which a request to start a game day must not do.
        var breaker = await breakers.GetAsync(runbook, cancellationToken);
        if (breaker.OpenUntil is { } until && until > time.GetUtcNow())
        {
            return $"the circuit breaker of '{runbook}' is open until {until:yyyy-MM-dd HH:mm:ss} UTC ({breaker.Reason}), so the alert would start no run; close it (POST /api/breakers/{runbook}/reset) once its cause is understood";
        }

        // A cooldown holds back one target. Only a constant concurrency key names the game day's target before its alert
        // exists; keyed by the alert (its fingerprint, its labels), the alert to come may well be another target.
        if (definition.Cooldown is { } cooldown && definition.Concurrency is { } template && !template.Contains('{', StringComparison.Ordinal))
        {
            var target = ConcurrencyKey.Render(runbook, template, new Dictionary<string, string?>(), alert: null);
            if (await alerts.RecentRunForTargetAsync(runbook, target, time.GetUtcNow() - cooldown, cancellationToken) is { } recent)
            {
                var free = recent.FinishedAt is { } finished ? $"after {finished + cooldown:yyyy-MM-dd HH:mm:ss} UTC" : "once it has ended and its cooldown has passed";
                return $"runbook '{runbook}' is cooling down for its concurrency key {target} after run {recent.Id} (cooldown {Durations.Format(cooldown)}), so the alert would start no run; start the game day {free}";
            }
        }

        return null;
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);

        // Each game day ends Failed and runs its restore; the host's shutdown timeout bounds the wait.
        try
        {
            await Task.WhenAll(_running.Values).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            LogStoppedBeforeRestore(_running.Count);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _stopping.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        // Before any request can start a game day: what this node left running before it stopped ends now. On SQLite
        // this is the only node, so every running game day is a previous process's.
        try
        {
            await AbandonAsync(node.Id, options.Value.UsesPostgres ? time.GetUtcNow() - Silence : time.GetUtcNow().AddMilliseconds(1), cancellationToken);
        }
        catch (DbException ex)
        {
            LogHeartbeatFailed(ex);
        }

        await base.StartAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var tick = new PeriodicTimer(HeartbeatInterval, time);
        try
        {
            while (await tick.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    foreach (var gone in await store.RenewGameDaysAsync([.. _running.Keys], stoppingToken))
                    {
                        // Ended by another node that took it for abandoned (this node stalled past the silence bound).
                        if (_executions.TryGetValue(gone, out var execution))
                        {
                            execution.TakenOver();
                        }
                    }

                    await AbandonAsync(null, time.GetUtcNow() - Silence, stoppingToken);
                }
                catch (DbException ex)
                {
                    // The store is away; the next tick tries again.
                    LogHeartbeatFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The host is stopping.
        }
    }

    private async Task AbandonAsync(string? ownNode, DateTimeOffset silentBefore, CancellationToken cancellationToken)
    {
        foreach (var abandoned in await store.AbandonedGameDaysAsync(ownNode, silentBefore, cancellationToken))
        {
            if (!_running.ContainsKey(abandoned.Id))
            {
                await AbandonAsync(abandoned, cancellationToken);
            }
        }
    }

    private async Task AbandonAsync(GameDayRecord gameDay, CancellationToken cancellationToken)
    {
        var restore = catalog.Find(gameDay.Runbook)?.Definition?.GameDay?.Restore;
        var reason = $"the node running it ({gameDay.Node}) stopped while it was {GameDayExecution.Doing(gameDay.Phase)}; "
            + (restore is null ? "nothing was restored" : $"restore did not run: run `{restore}` by hand if the fault is still there");
        var ended = gameDay with { Status = GameDayStatus.Failed, Error = reason, FinishedAt = time.GetUtcNow() };
        if (await store.SaveGameDayAsync(ended, cancellationToken))
        {
            LogAbandoned(gameDay.Id, gameDay.Runbook, reason);
        }
    }

    [LoggerMessage(EventId = 1740, Level = LogLevel.Information, Message = "Game day {GameDayId} of {Runbook} started by {By}")]
    private partial void LogStarted(string gameDayId, string runbook, string by);

    [LoggerMessage(EventId = 1745, Level = LogLevel.Warning, Message = "Game day {GameDayId} of {Runbook} ended Failed: {Reason}")]
    private partial void LogAbandoned(string gameDayId, string runbook, string reason);

    [LoggerMessage(EventId = 1746, Level = LogLevel.Warning, Message = "Game days' heartbeat could not be written; trying again in a few seconds")]
    private partial void LogHeartbeatFailed(Exception exception);

    [LoggerMessage(EventId = 1747, Level = LogLevel.Warning, Message = "The host stopped before {Count} game days finished their restore")]
    private partial void LogStoppedBeforeRestore(int count);
}

/// <summary>What starting a game day came to.</summary>
/// <param name="Problem">Why it did not start, or <see cref="GameDayStartProblem.None"/>.</param>
/// <param name="GameDay">The game day started; for <see cref="GameDayStartProblem.Busy"/>, the one still running.</param>
/// <param name="Error">Why it did not start, in words.</param>
public sealed record GameDayStart(GameDayStartProblem Problem, GameDayRecord? GameDay, string? Error);

/// <summary>Why a game day did not start.</summary>
public enum GameDayStartProblem
{
    /// <summary>It started.</summary>
    None,

    /// <summary>No such runbook.</summary>
    NotFound,

    /// <summary>The runbook does not compile or its front matter is invalid.</summary>
    Invalid,

    /// <summary>The runbook has no <c>gameday:</c> block, or no alert can start it.</summary>
    NoGameDay,

    /// <summary>One of its game days is still running.</summary>
    Busy,

    /// <summary>Nothing would fix the fault: the runbook only proposes (shadow), its breaker is open, or it is cooling down.</summary>
    WouldNotFix,
}
