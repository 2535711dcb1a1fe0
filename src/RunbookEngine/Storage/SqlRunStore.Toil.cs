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

        // One snapshot for the three reads: a retention batch committing between them would otherwise move a run from
        // the live rows to the summaries in mid-read, counting it twice or taking its run without its steps.
        await using var snapshot = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        var runs = await connection.QueryAsync<ToilRunRow>(new CommandDefinition(
            """
            SELECT r.id AS Id, r.runbook AS Runbook, r.status AS Status, r.trigger_kind AS TriggerKind, r.queued_at AS QueuedAt,
                   r.started_at AS StartedAt, r.finished_at AS FinishedAt, r.manual_minutes AS ManualMinutes, r.mode AS Mode,
                   a.id AS AlertId, a.source AS AlertSource, a.name AS AlertName, a.starts_at AS AlertStartsAt,
                   a.resolved_at AS AlertResolvedAt, a.labels AS AlertLabels
            FROM runbook_runs r LEFT JOIN runbook_alerts a ON a.id = r.alert_id
            WHERE r.queued_at >= @from AND r.queued_at < @to
            ORDER BY r.queued_at, r.id
            """,
            window, snapshot, cancellationToken: cancellationToken));

        // Only the steps that count: automated steps without an estimate are most of a journal and change nothing.
        var steps = await connection.QueryAsync<StepRow>(new CommandDefinition(
            $"""
            SELECT run_id AS RunId, {StepColumns}
            FROM runbook_steps
            WHERE run_id IN (SELECT id FROM runbook_runs WHERE queued_at >= @from AND queued_at < @to)
              AND (kind <> 'Automated' OR manual_minutes IS NOT NULL)
            """,
            window, snapshot, cancellationToken: cancellationToken));
        var byRun = steps.GroupBy(s => s.RunId).ToDictionary(g => g.Key, g => (IReadOnlyList<StepOutcome>)[.. g.Select(s => s.ToOutcome()).OrderBy(s => s.Sequence)]);

        // Runs retention deleted, from their summaries. A summary is written in the transaction that deletes its run, so
        // the NOT EXISTS only guards against a run restored from a backup next to its summary.
        var kept = await connection.QueryAsync<ToilRunRow>(new CommandDefinition(
            """
            SELECT run_id AS Id, runbook AS Runbook, status AS Status, trigger_kind AS TriggerKind, queued_at AS QueuedAt,
                   started_at AS StartedAt, finished_at AS FinishedAt, manual_minutes AS ManualMinutes,
                   alert_id AS AlertId, alert_source AS AlertSource, alert_name AS AlertName, alert_starts_at AS AlertStartsAt,
                   alert_resolved_at AS AlertResolvedAt, alert_labels AS AlertLabels,
                   baseline_minutes AS BaselineMinutes, automated_minutes AS AutomatedMinutes, human_minutes AS HumanMinutes,
                   saved_minutes AS SavedMinutes
            FROM runbook_toil_runs t
            WHERE t.queued_at >= @from AND t.queued_at < @to
              AND NOT EXISTS (SELECT 1 FROM runbook_runs r WHERE r.id = t.run_id)
            """,
            window, snapshot, cancellationToken: cancellationToken));

        // One order for both, the order of the live runs alone, so sums add up in the same order as before retention.
        return [.. runs.Select(r => r.ToToilRun(byRun.GetValueOrDefault(r.Id, []), null))
            .Concat(kept.Select(r => r.ToToilRun([], new Toil.RunToil(r.BaselineMinutes, r.AutomatedMinutes, r.HumanMinutes, r.SavedMinutes, []))))
            .OrderBy(r => r.QueuedAt)
            .ThenBy(r => r.Id, StringComparer.Ordinal)];
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

        // Alerts retention deleted, counted per UTC day; a day counts when it begins in the window.
        var kept = await connection.QueryAsync<(string Name, string Source, long Count, long First, long Last)>(new CommandDefinition(
            """
            SELECT name, source, CAST(SUM(alerts) AS BIGINT), MIN(first_seen), MAX(last_seen)
            FROM runbook_toil_unautomated
            WHERE day_start >= @from AND day_start < @to
            GROUP BY name, source
            """,
            new { from = since.ToUnixTimeMilliseconds(), to = until.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return [.. rows.Concat(kept)
            .GroupBy(r => (r.Name, r.Source))
            .Select(g => new UnautomatedCount(g.Key.Name, g.Key.Source, g.Sum(r => r.Count), FromMs(g.Min(r => r.First)), FromMs(g.Max(r => r.Last))))];
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

        public string? Mode { get; set; }
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

        public double BaselineMinutes { get; set; }

        public double AutomatedMinutes { get; set; }

        public double HumanMinutes { get; set; }

        public double SavedMinutes { get; set; }

        public ToilRun ToToilRun(IReadOnlyList<StepOutcome> steps, Toil.RunToil? figures) => new(
            Id, Runbook, Enum.Parse<RunStatus>(Status), Enum.Parse<RunTrigger>(TriggerKind), FromMs(QueuedAt), FromMs(StartedAt), FromMs(FinishedAt),
            ManualMinutes, steps,
            AlertId is null ? null : new ToilAlert(AlertId, AlertSource!, AlertName!, FromMs(AlertStartsAt!.Value), FromMs(AlertResolvedAt), AlertLabels ?? "{}"),
            figures,
            Mode is null ? RunMode.Auto : Enum.Parse<RunMode>(Mode, ignoreCase: true));
    }
}
