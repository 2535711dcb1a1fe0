using System.Data.Common;
using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.GameDays;

/// <summary>
/// One game day from injection to restore: inject, wait for an alert received since the injection to start a run of
/// the runbook, wait for that run to succeed, run verify until it passes; then always restore. Every phase but restore
/// shares the block's timeout, counted from the injection; each step is written to the store as it happens.
/// </summary>
internal sealed partial class GameDayExecution(
    GameDayRecord start,
    RunbookDefinition runbook,
    IGameDayStore store,
    IRunStore runs,
    RunEvents events,
    TimeProvider time,
    ILogger logger)
{
    /// <summary>How often the store is read for the alert.</summary>
    internal static readonly TimeSpan AlertPoll = TimeSpan.FromMilliseconds(500);

    /// <summary>How long verify waits between attempts.</summary>
    internal static readonly TimeSpan VerifyPause = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long restore may take. Its own bound, not what is left of the timeout: restore runs after a timeout too, and
    /// it is the one command that must not be cut short for lack of time.
    /// </summary>
    internal static readonly TimeSpan RestoreTimeout = TimeSpan.FromMinutes(5);

    // Enough for every command's output of a game day; a verify that fails many times is summarised, not repeated.
    private const int MaxLog = 32_000;

    private readonly GameDayDefinition _block = runbook.GameDay!;
    private readonly StringBuilder _log = new();

    // What is current, written to the store at each step.
    private GameDayRecord _day = start;

    // Set once another node took this game day for abandoned: its writes stop, its restore still runs.
    private volatile bool _lost;

    // Cancels the phases with _lost, so no verify or wait goes on beside a second game day that the freed unique index
    // now allows; restore still runs, since the fault this node injected is still in place. Null outside RunAsync.
    private Action? _stopPhases;

    // Alerts that arrived after the injection but started no run (a cooldown, an open breaker): named if none does.
    private IReadOnlyList<GameDayAlert> _guarded = [];

    // The last failed verify attempt, for the message when verify never passes.
    private (int ExitCode, string Output)? _lastVerify;

    /// <summary>The game day as it stands.</summary>
    public GameDayRecord Current => _day;

    /// <summary>Runs the game day to its end; never throws for what its commands or the store do.</summary>
    /// <param name="stopping">The host is stopping: the game day ends Failed, and restore still runs.</param>
    /// <returns>The game day as it ended.</returns>
    public async Task<GameDayRecord> RunAsync(CancellationToken stopping)
    {
        using var deadline = new CancellationTokenSource(_block.Timeout, time);
        using var takenOver = new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, stopping, takenOver.Token);
        var token = linked.Token;
        string? failure = null;
        _stopPhases = takenOver.Cancel;
        if (_lost)
        {
            await takenOver.CancelAsync();
        }

        try
        {
            await PhasesAsync(token);
        }
        catch (OperationCanceledException) when (takenOver.IsCancellationRequested)
        {
            failure = $"another node took the game day for abandoned while it was {Doing(_day.Phase)}";
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            failure = $"the host stopped while the game day was {Doing(_day.Phase)}";
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            failure = TimedOut();
        }
        catch (GameDayFailedException ex)
        {
            failure = ex.Message;
        }
        catch (Exception ex) when (ex is DbException or IOException or InvalidOperationException or TimeoutException)
        {
            failure = $"the game day stopped while {Doing(_day.Phase)}: {ex.Message}";
        }

        _stopPhases = null;
        var failedIn = _day.Phase;
        if (_block.Restore is { } restore && await RestoreAsync(restore) is { } restoreFailure)
        {
            (failure, failedIn) = failure is null ? (restoreFailure, GameDayPhase.Restoring) : ($"{failure}; then {restoreFailure}", failedIn);
        }

        _day = _day with
        {
            Status = failure is null ? GameDayStatus.Succeeded : GameDayStatus.Failed,
            Phase = failure is null ? GameDayPhase.Done : failedIn,
            Error = failure,
            FinishedAt = time.GetUtcNow(),
        };
        await SaveAsync(CancellationToken.None);
        if (failure is null)
        {
            LogSucceeded(_day.Id, _day.Runbook, Seconds(_day.TimeToDetect), Seconds(_day.TimeToRemediate), Seconds(_day.TimeToRecover));
        }
        else
        {
            LogFailed(_day.Id, _day.Runbook, failure);
        }

        return _day;
    }

    private async Task PhasesAsync(CancellationToken token)
    {
        _day = _day with { InjectedAt = time.GetUtcNow(), Phase = GameDayPhase.Injecting };
        await SaveAsync(token);
        var (code, output) = await CommandAsync("inject", _block.Inject, token);
        if (code != 0)
        {
            throw new GameDayFailedException($"inject `{_block.Inject}` exited {code}{Last(output)}");
        }

        _day = _day with { Phase = GameDayPhase.WaitingForAlert };
        await SaveAsync(token);
        var alert = await AlertAsync(token);
        _day = _day with { AlertId = alert.AlertId, AlertAt = alert.ReceivedAt, RunId = alert.RunId, Phase = GameDayPhase.WaitingForRun };
        Append($"alert {alert.AlertName} ({alert.AlertId}) received at {Time(alert.ReceivedAt)} started run {alert.RunId}\n");
        await SaveAsync(token);

        var run = await EndedRunAsync(alert.RunId!, token);
        Append($"run {run.Id} ended {run.Status}{(run.Error is { } e ? ": " + e : "")}\n");
        if (run.Status != RunStatus.Succeeded)
        {
            throw new GameDayFailedException($"run {run.Id} of {run.Runbook} ended {run.Status}{(run.Error is { } error ? ": " + error : "")}; the runbook did not fix the fault");
        }

        _day = _day with { RemediatedAt = run.FinishedAt ?? time.GetUtcNow(), Phase = GameDayPhase.Verifying };
        await SaveAsync(token);
        await VerifyAsync(token);
    }

    /// <summary>The first alert received since the injection that started a run of the runbook.</summary>
    private async Task<GameDayAlert> AlertAsync(CancellationToken token)
    {
        var since = _day.InjectedAt!.Value;
        var heartbeat = time.GetTimestamp();
        while (true)
        {
            var alerts = await store.AlertsForRunbookSinceAsync(_day.Runbook, since, token);
            if (alerts.FirstOrDefault(a => a.Decision == AlertDecisionKind.Started && a.RunId is not null) is { } started)
            {
                return started;
            }

            if (alerts.Count != _guarded.Count)
            {
                foreach (var guarded in alerts.Skip(_guarded.Count))
                {
                    Append($"alert {guarded.AlertName} ({guarded.AlertId}) received at {Time(guarded.ReceivedAt)} started no run: {guarded.Decision}{(guarded.Reason is { } r ? ", " + r : "")}\n");
                }

                _guarded = alerts;
                await SaveAsync(token);
            }
            else if (time.GetElapsedTime(heartbeat) > GameDayRunner.HeartbeatInterval)
            {
                // The runner renews heartbeats too; saving here also keeps the log current for a person watching.
                heartbeat = time.GetTimestamp();
                await SaveAsync(token);
            }

            await Task.Delay(AlertPoll, time, token);
        }
    }

    /// <summary>The run once it has ended for good: a rest for a person is part of the remediation, so it is waited out.</summary>
    private async Task<RunRecord> EndedRunAsync(string runId, CancellationToken token)
    {
        while (true)
        {
            await events.WhenEndedAsync(runId, token);
            var run = await runs.GetRunAsync(runId, token) ?? throw new GameDayFailedException($"run {runId} is gone from the store (deleted by retention?)");
            if (run.IsTerminal)
            {
                return run;
            }

            await Task.Delay(VerifyPause, time, token);
        }
    }

    private async Task VerifyAsync(CancellationToken token)
    {
        var attempts = 0;
        while (true)
        {
            attempts++;
            var (code, output) = await CommandAsync("verify", _block.Verify, token, quiet: attempts > 1);
            if (code == 0)
            {
                _day = _day with { VerifiedAt = time.GetUtcNow() };
                if (attempts > 1)
                {
                    Append($"verify passed on attempt {attempts}\n");
                }

                await SaveAsync(token);
                return;
            }

            _lastVerify = (code, output);
            await Task.Delay(VerifyPause, time, token);
        }
    }

    /// <summary>Runs restore, whatever happened before; returns what went wrong with it, if anything.</summary>
    private async Task<string?> RestoreAsync(string restore)
    {
        _day = _day with { Phase = GameDayPhase.Restoring };
        await SaveAsync(CancellationToken.None);
        using var bound = new CancellationTokenSource(RestoreTimeout, time);
        try
        {
            var (code, output) = await CommandAsync("restore", restore, bound.Token);
            if (code == 0)
            {
                _day = _day with { RestoredAt = time.GetUtcNow() };
                return null;
            }

            return $"restore `{restore}` exited {code}{Last(output)}: check by hand what the game day left broken";
        }
        catch (OperationCanceledException)
        {
            return $"restore `{restore}` did not finish within {Durations.Format(RestoreTimeout)} and was killed: check by hand what the game day left broken";
        }
    }

    private async Task<(int ExitCode, string Output)> CommandAsync(string name, string command, CancellationToken token, bool quiet = false)
    {
        var started = time.GetTimestamp();
        if (!quiet)
        {
            Append($"$ {name}: {command}\n");
        }

        var (code, output) = await GameDayProcess.RunAsync(command, token);
        if (!quiet || code == 0)
        {
            Append((output.Length > 0 ? output + "\n" : "") + $"{name} exited {code} after {Seconds(time.GetElapsedTime(started))} s\n");
        }

        return (code, output);
    }

    private string TimedOut()
    {
        var limit = Durations.Format(_block.Timeout);
        return _day.Phase switch
        {
            GameDayPhase.Injecting => $"inject `{_block.Inject}` did not finish within {limit}, the game day's timeout; its process tree was killed",
            GameDayPhase.WaitingForAlert => $"no alert arrived within {limit} of the injection: is the monitoring path routing {AlertNames()} to this host?" + Guarded(),
            GameDayPhase.WaitingForRun => $"run {_day.RunId} did not end within {limit} of the injection; the game day stopped waiting (the run goes on)",
            GameDayPhase.Verifying => $"verify `{_block.Verify}` did not pass within {limit} of the injection"
                + (_lastVerify is { } last ? $"; its last attempt exited {last.ExitCode}{Last(last.Output)}" : ""),
            _ => $"the game day did not finish within {limit}",
        };
    }

    private string AlertNames()
    {
        var names = runbook.Alerts.Select(a => a.Name ?? "an alert with labels " + string.Join(", ", a.Labels.Select(l => $"{l.Key}=~\"{l.Value}\""))).Distinct().ToList();
        return names.Count == 0 ? "an alert of this runbook" : string.Join(" or ", names);
    }

    private string Guarded() => _guarded.Count == 0
        ? ""
        : $" ({_guarded.Count} matching alert{(_guarded.Count == 1 ? "" : "s")} did arrive but started no run: "
            + string.Join("; ", _guarded.Take(3).Select(g => $"{g.AlertName} at {Time(g.ReceivedAt)}: {g.Decision}{(g.Reason is { } r ? ", " + r : "")}")) + ")";

    /// <summary>Words for what a game day does in a phase, for messages about game days that stopped in it.</summary>
    /// <param name="phase">The phase.</param>
    /// <returns>E.g. "waiting for the alert".</returns>
    internal static string Doing(GameDayPhase phase) => phase switch
    {
        GameDayPhase.Injecting => "injecting the fault",
        GameDayPhase.WaitingForAlert => "waiting for the alert",
        GameDayPhase.WaitingForRun => "waiting for the runbook's run",
        GameDayPhase.Verifying => "verifying the fault was gone",
        GameDayPhase.Restoring => "restoring",
        _ => "ending",
    };

    private static string Last(string output)
    {
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault();
        return line is null ? "" : $": {(line.Length > 300 ? line[..300] + "..." : line)}";
    }

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss.fff 'UTC'", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan? span) => span is { } s ? s.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) : "–";

    private void Append(string text)
    {
        if (_log.Length >= MaxLog)
        {
            return;
        }

        _log.Append(text.Length > MaxLog - _log.Length ? text[..(MaxLog - _log.Length)] + "\n[the rest of the log was not kept]\n" : text);
        _day = _day with { Log = _log.ToString() };
    }

    private async Task SaveAsync(CancellationToken token)
    {
        if (_lost)
        {
            return;
        }

        try
        {
            if (!await store.SaveGameDayAsync(_day, token))
            {
                // Another node took it for abandoned (this node stalled past the silence bound): stop and restore, but
                // its record now says what that node decided.
                TakenOver();
            }
        }
        catch (DbException ex) when (!token.IsCancellationRequested)
        {
            // A store that blinks must not fail a game day whose fault is in place; the next save writes it all.
            LogSaveFailed(_day.Id, ex);
        }
    }

    /// <summary>
    /// Another node took this game day for abandoned (its save or its heartbeat found it no longer running): the phases
    /// stop, restore runs, and nothing more is written.
    /// </summary>
    public void TakenOver()
    {
        if (_lost)
        {
            return;
        }

        _lost = true;
        LogLost(_day.Id, _day.Runbook);
        try
        {
            _stopPhases?.Invoke();
        }
        catch (ObjectDisposedException)
        {
            // The phases ended meanwhile; restore is under way or done.
        }
    }

    [LoggerMessage(EventId = 1741, Level = LogLevel.Information, Message = "Game day {GameDayId} of {Runbook} succeeded: detected in {Detect} s, remediated in {Remediate} s, recovered in {Recover} s")]
    private partial void LogSucceeded(string gameDayId, string runbook, string detect, string remediate, string recover);

    [LoggerMessage(EventId = 1742, Level = LogLevel.Warning, Message = "Game day {GameDayId} of {Runbook} failed: {Reason}")]
    private partial void LogFailed(string gameDayId, string runbook, string reason);

    [LoggerMessage(EventId = 1743, Level = LogLevel.Warning, Message = "Game day {GameDayId} of {Runbook} was taken for abandoned by another node; it stops, restores and stops writing")]
    private partial void LogLost(string gameDayId, string runbook);

    [LoggerMessage(EventId = 1744, Level = LogLevel.Warning, Message = "Game day {GameDayId}: its progress could not be written; the next write tries again")]
    private partial void LogSaveFailed(string gameDayId, Exception exception);
}
