using Dapper;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore : IToilStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<ToilRun>> ToilRunsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var window = new { from = since.ToUnixTimeMilliseconds(), to = until.ToUnixTimeMilliseconds() };
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var runs = await connection.QueryAsync<ToilRunRow>(new CommandDefinition(
            """
            SELECT r.id AS Id, r.runbook AS Runbook, r.status AS Status, r.trigger_kind AS TriggerKind, r.queued_at AS QueuedAt,
                   r.started_at AS StartedAt, r.finished_at AS FinishedAt, r.manual_minutes AS ManualMinutes,
                   a.id AS AlertId, a.source AS AlertSource, a.name AS AlertName, a.starts_at AS AlertStartsAt,
                   a.resolved_at AS AlertResolvedAt, a.labels AS AlertLabels
            FROM runbook_runs r LEFT JOIN runbook_alerts a ON a.id = r.alert_id
            WHERE r.queued_at >= @from AND r.queued_at < @to
            ORDER BY r.queued_at, r.id
            """,
            window, cancellationToken: cancellationToken));

        // Only the steps that count: automated steps without an estimate are most of a journal and change nothing.
        var steps = await connection.QueryAsync<StepRow>(new CommandDefinition(
            $"""
            SELECT run_id AS RunId, {StepColumns}
            FROM runbook_steps
            WHERE run_id IN (SELECT id FROM runbook_runs WHERE queued_at >= @from AND queued_at < @to)
              AND (kind <> 'Automated' OR manual_minutes IS NOT NULL)
            """,
            window, cancellationToken: cancellationToken));
        var byRun = steps.GroupBy(s => s.RunId).ToDictionary(g => g.Key, g => (IReadOnlyList<StepOutcome>)[.. g.Select(s => s.ToOutcome()).OrderBy(s => s.Sequence)]);
        return [.. runs.Select(r => new ToilRun(
            r.Id, r.Runbook, Enum.Parse<RunStatus>(r.Status), Enum.Parse<RunTrigger>(r.TriggerKind), FromMs(r.QueuedAt), FromMs(r.StartedAt), FromMs(r.FinishedAt),
            r.ManualMinutes, byRun.GetValueOrDefault(r.Id, []),
            r.AlertId is null ? null : new ToilAlert(r.AlertId, r.AlertSource!, r.AlertName!, FromMs(r.AlertStartsAt!.Value), FromMs(r.AlertResolvedAt), r.AlertLabels ?? "{}")))];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<UnautomatedCount>> UnautomatedAlertsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Name, string Source, long Count, long First, long Last)>(new CommandDefinition(
            """
            SELECT name, source, COUNT(*), MIN(received_at), MAX(received_at)
            FROM runbook_alerts
            WHERE outcome = 'Unautomated' AND received_at >= @from AND received_at < @to
            GROUP BY name, source
            """,
            new { from = since.ToUnixTimeMilliseconds(), to = until.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new UnautomatedCount(r.Name, r.Source, r.Count, FromMs(r.First), FromMs(r.Last)))];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyDictionary<RunStatus, long>> ActiveRunCountsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Status, long Count)>(new CommandDefinition(
            "SELECT status, COUNT(*) FROM runbook_runs WHERE status IN ('Queued', 'Running', 'WaitingForHuman') GROUP BY status",
            cancellationToken: cancellationToken));
        return rows.ToDictionary(r => Enum.Parse<RunStatus>(r.Status), r => r.Count);
    }

    private sealed class ToilRunRow
    {
        public string Id { get; set; } = "";
        public string Runbook { get; set; } = "";
        public string Status { get; set; } = "";
        public string TriggerKind { get; set; } = "";
        public long QueuedAt { get; set; }
        public long? StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public double? ManualMinutes { get; set; }
        public string? AlertId { get; set; }
        public string? AlertSource { get; set; }
        public string? AlertName { get; set; }
        public long? AlertStartsAt { get; set; }
        public long? AlertResolvedAt { get; set; }
        public string? AlertLabels { get; set; }
    }
}
