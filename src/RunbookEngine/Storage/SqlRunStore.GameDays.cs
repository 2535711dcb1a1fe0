using Dapper;
using RunbookEngine.Alerts;
using RunbookEngine.Trust.GameDays;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore : IGameDayStore
{
    private const string GameDayColumns = """
        id AS Id, runbook AS Runbook, started_by AS StartedBy, started_at AS StartedAt, injected_at AS InjectedAt, alert_id AS AlertId,
        alert_at AS AlertAt, run_id AS RunId, remediated_at AS RemediatedAt, verified_at AS VerifiedAt, restored_at AS RestoredAt,
        finished_at AS FinishedAt, status AS Status, phase AS Phase, error AS Error, log AS Log, node AS Node
        """;

    /// <inheritdoc />
    public async Task<GameDayRecord?> StartGameDayAsync(string runbook, string startedBy, string node, CancellationToken cancellationToken)
    {
        var now = Now();
        var record = new GameDayRecord(NewId(), runbook, startedBy, FromMs(now), null, null, null, null, null, null, null, null,
            GameDayStatus.Running, GameDayPhase.Injecting, null, "", node);
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // The partial unique index on running game days turns a second one into a conflict, on any node at once.
        var inserted = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_gamedays (id, runbook, started_by, started_at, status, phase, log, node, heartbeat_at)
            VALUES (@Id, @Runbook, @StartedBy, @now, 'Running', 'Injecting', '', @Node, @now)
            ON CONFLICT DO NOTHING
            """,
            new { record.Id, record.Runbook, record.StartedBy, record.Node, now },
            cancellationToken: cancellationToken));
        return inserted == 1 ? record : null;
    }

    /// <inheritdoc />
    public async Task<bool> SaveGameDayAsync(GameDayRecord gameDay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gameDay);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_gamedays
            SET injected_at = @InjectedAt, alert_id = @AlertId, alert_at = @AlertAt, run_id = @RunId, remediated_at = @RemediatedAt,
                verified_at = @VerifiedAt, restored_at = @RestoredAt, finished_at = @FinishedAt, status = @Status, phase = @Phase,
                error = @Error, log = @Log, heartbeat_at = @now
            WHERE id = @Id AND status = 'Running'
            """,
            new
            {
                gameDay.Id,
                InjectedAt = gameDay.InjectedAt?.ToUnixTimeMilliseconds(),
                gameDay.AlertId,
                AlertAt = gameDay.AlertAt?.ToUnixTimeMilliseconds(),
                gameDay.RunId,
                RemediatedAt = gameDay.RemediatedAt?.ToUnixTimeMilliseconds(),
                VerifiedAt = gameDay.VerifiedAt?.ToUnixTimeMilliseconds(),
                RestoredAt = gameDay.RestoredAt?.ToUnixTimeMilliseconds(),
                FinishedAt = gameDay.FinishedAt?.ToUnixTimeMilliseconds(),
                Status = gameDay.Status.ToString(),
                Phase = gameDay.Phase.ToString(),
                gameDay.Error,
                gameDay.Log,
                now = Now(),
            },
            cancellationToken: cancellationToken)) == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> RenewGameDaysAsync(IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 0)
        {
            return [];
        }

        var parameters = new DynamicParameters(new { now = Now() });
        var list = InList("g", ids, parameters);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var renewed = (await connection.QueryAsync<string>(new CommandDefinition(
            $"UPDATE runbook_gamedays SET heartbeat_at = @now WHERE id IN {list} AND status = 'Running' RETURNING id", parameters, cancellationToken: cancellationToken))).ToHashSet(StringComparer.Ordinal);
        return [.. ids.Where(id => !renewed.Contains(id))];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<GameDayRecord>> AbandonedGameDaysAsync(string? node, DateTimeOffset silentBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GameDayRow>(new CommandDefinition(
            $"SELECT {GameDayColumns} FROM runbook_gamedays WHERE status = 'Running' AND (node = @node OR heartbeat_at < @silentBefore) ORDER BY started_at",
            new { node, silentBefore = silentBefore.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<GameDayRecord?> GetGameDayAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<GameDayRow>(new CommandDefinition(
            $"SELECT {GameDayColumns} FROM runbook_gamedays WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<GameDayRecord>> ListGameDaysAsync(string runbook, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GameDayRow>(new CommandDefinition(
            $"SELECT {GameDayColumns} FROM runbook_gamedays WHERE runbook = @runbook ORDER BY started_at DESC, id DESC LIMIT @limit",
            new { runbook, limit = Math.Clamp(limit, 1, 500) }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<GameDayAlert>> AlertsForRunbookSinceAsync(string runbook, DateTimeOffset since, CancellationToken cancellationToken)
    {
        // The alerts' index on received_at finds the few received since the injection; each joins its decision by key.
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<GameDayAlertRow>(new CommandDefinition(
            """
            SELECT a.id AS AlertId, a.name AS AlertName, a.received_at AS ReceivedAt, d.decision AS Decision, d.run_id AS RunId, d.reason AS Reason
            FROM runbook_alerts a JOIN runbook_alert_decisions d ON d.alert_id = a.id AND d.runbook = @runbook
            WHERE a.received_at >= @since
            ORDER BY a.received_at, a.id
            LIMIT 50
            """,
            new { runbook, since = since.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new GameDayAlert(r.AlertId, r.AlertName, FromMs(r.ReceivedAt), Enum.Parse<AlertDecisionKind>(r.Decision), r.RunId, r.Reason))];
    }

    private sealed class GameDayAlertRow
    {
        public string AlertId { get; set; } = "";

        public string AlertName { get; set; } = "";

        public long ReceivedAt { get; set; }

        public string Decision { get; set; } = "";

        public string? RunId { get; set; }

        public string? Reason { get; set; }
    }

    private sealed class GameDayRow
    {
        public string Id { get; set; } = "";

        public string Runbook { get; set; } = "";

        public string StartedBy { get; set; } = "";

        public long StartedAt { get; set; }

        public long? InjectedAt { get; set; }

        public string? AlertId { get; set; }

        public long? AlertAt { get; set; }

        public string? RunId { get; set; }

        public long? RemediatedAt { get; set; }

        public long? VerifiedAt { get; set; }

        public long? RestoredAt { get; set; }

        public long? FinishedAt { get; set; }

        public string Status { get; set; } = "";

        public string Phase { get; set; } = "";

        public string? Error { get; set; }

        public string Log { get; set; } = "";

        public string Node { get; set; } = "";

        public GameDayRecord ToRecord() => new(Id, Runbook, StartedBy, FromMs(StartedAt), FromMs(InjectedAt), AlertId, FromMs(AlertAt), RunId,
            FromMs(RemediatedAt), FromMs(VerifiedAt), FromMs(RestoredAt), FromMs(FinishedAt), Enum.Parse<GameDayStatus>(Status), Enum.Parse<GameDayPhase>(Phase),
            Error, Log, Node);
    }
}
