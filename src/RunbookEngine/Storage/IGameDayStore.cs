using RunbookEngine.Trust.GameDays;

namespace RunbookEngine.Storage;

/// <summary>Game days and the alerts they wait for. Implemented by both run store backends.</summary>
public interface IGameDayStore
{
    /// <summary>Records a new game day, Running and Injecting, unless the runbook has one running already.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="startedBy">Who starts it.</param>
    /// <param name="node">The node that runs it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The game day, or null when one of the runbook's is still running (on any node).</returns>
    Task<GameDayRecord?> StartGameDayAsync(string runbook, string startedBy, string node, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a running game day's progress (its times, phase, status, error and log) and renews its heartbeat; a game
    /// day that has already ended (another node took it for abandoned) is left as it is.
    /// </summary>
    /// <param name="gameDay">The game day as it stands now.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>False when it had already ended.</returns>
    Task<bool> SaveGameDayAsync(GameDayRecord gameDay, CancellationToken cancellationToken);

    /// <summary>Renews the heartbeat of a node's running game days, so other nodes know they are still going.</summary>
    /// <param name="ids">The game days.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Those of <paramref name="ids"/> no longer running: another node took them for abandoned.</returns>
    Task<IReadOnlyList<string>> RenewGameDaysAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken);

    /// <summary>
    /// The running game days nobody is running any more: those of <paramref name="node"/> (which has just started, so
    /// its earlier process is gone) and those whose heartbeat is older than <paramref name="silentBefore"/>.
    /// </summary>
    /// <param name="node">This node.</param>
    /// <param name="silentBefore">A heartbeat older than this belongs to a node that died.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The game days.</returns>
    Task<IReadOnlyList<GameDayRecord>> AbandonedGameDaysAsync(string? node, DateTimeOffset silentBefore, CancellationToken cancellationToken);

    /// <summary>A game day.</summary>
    /// <param name="id">Its id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>It, or null.</returns>
    Task<GameDayRecord?> GetGameDayAsync(string id, CancellationToken cancellationToken);

    /// <summary>A runbook's game days, newest first.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="limit">At most this many (1 to 500).</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Its game days.</returns>
    Task<IReadOnlyList<GameDayRecord>> ListGameDaysAsync(string runbook, int limit, CancellationToken cancellationToken);

    /// <summary>
    /// The alerts received at or after a time that matched a runbook, with what was decided about each for it, oldest
    /// first: what a game day waits for after its injection.
    /// </summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="since">Alerts received before this do not count.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Up to 50 alerts.</returns>
    Task<IReadOnlyList<GameDayAlert>> AlertsForRunbookSinceAsync(string runbook, DateTimeOffset since, CancellationToken cancellationToken);
}
