using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Toil;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore : IRetentionStore
{
    // An arbitrary constant naming the retention lock among the database's advisory locks (next to the migration lock).
    private const long RetentionLockKey = 0x52554E424F4F4C;

    private const long DayMs = 24 * 60 * 60 * 1000;

    private const string Ended = Runs.RunStatuses.TerminalSql;

    /// <inheritdoc />
    public async Task<IAsyncDisposable?> TryLockRetentionAsync(CancellationToken cancellationToken)
    {
        // SQLite is one node, and its write transactions already exclude each other.
        if (_dialect.Name != "PostgreSQL")
        {
            return new RetentionLock(null);
        }

        // A session lock, held across the pass's many short transactions; it goes with the connection if the node dies.
        var connection = await _dialect.OpenAsync(cancellationToken);
        try
        {
            var taken = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                $"SELECT pg_try_advisory_lock({RetentionLockKey})", cancellationToken: cancellationToken));
            if (taken)
            {
                return new RetentionLock(connection);
            }
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        await connection.DisposeAsync();
        return null;
    }

    /// <inheritdoc />
    public async Task<(int Runs, int Steps)> DeleteExpiredRunsAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var cutoff = before.ToUnixTimeMilliseconds();
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // queued_at < cutoff is implied by the end being before it, and lets the status index seek. A run whose alert
        // is recent stays: the alert's page and its time to remediate still need it.
        var ids = (await connection.QueryAsync<string>(new CommandDefinition(
            $"""
            SELECT r.id FROM runbook_runs r
            WHERE r.status IN {Ended} AND r.queued_at < @cutoff
              AND COALESCE(r.finished_at, r.started_at, r.queued_at) < @cutoff
              AND (r.alert_id IS NULL OR NOT EXISTS (SELECT 1 FROM runbook_alerts a WHERE a.id = r.alert_id AND a.received_at >= @cutoff))
            ORDER BY r.queued_at, r.id
            LIMIT @batchSize
            """,
            new { cutoff, batchSize }, transaction, cancellationToken: cancellationToken))).ToList();
        if (ids.Count == 0)
        {
            return (0, 0);
        }

        await KeepToilAsync(connection, transaction, ids, cancellationToken);

        var parameters = new DynamicParameters();
        var list = InList("id", ids, parameters);
        await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_run_calls WHERE run_id IN {list}", parameters, transaction, cancellationToken: cancellationToken));
        var steps = await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_steps WHERE run_id IN {list}", parameters, transaction, cancellationToken: cancellationToken));
        var runs = await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_runs WHERE id IN {list}", parameters, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return (runs, steps);
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredAlertsAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var cutoff = before.ToUnixTimeMilliseconds();
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var alerts = (await connection.QueryAsync<(string Id, string Name, string Source, string Outcome, long ReceivedAt, string? IncidentId)>(new CommandDefinition(
            """
            SELECT a.id, a.name, a.source, a.outcome, a.received_at, a.incident_id FROM runbook_alerts a
            WHERE a.received_at < @cutoff AND NOT EXISTS (SELECT 1 FROM runbook_runs r WHERE r.alert_id = a.id)
            ORDER BY a.received_at, a.id
            LIMIT @batchSize
            """,
            new { cutoff, batchSize }, transaction, cancellationToken: cancellationToken))).ToList();
        if (alerts.Count == 0)
        {
            return 0;
        }

        // Their incidents are locked before anything is deleted, as ingest and close take them before the keys: an alert
        // joining one of them then either commits first (and the incident stays, since the checks below run after it)
        // or finds it gone and groups again.
        var incidents = alerts.Select(a => a.IncidentId).OfType<string>().Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        if (incidents.Count > 0)
        {
            var lockParameters = new DynamicParameters();
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE runbook_incidents SET last_alert_at = last_alert_at WHERE id IN {InList("l", incidents, lockParameters)}",
                lockParameters, transaction, cancellationToken: cancellationToken));
        }

        // What to automate next keeps counting them, per UTC day. Resends have another outcome and were never counted.
        foreach (var day in alerts.Where(a => a.Outcome == nameof(Alerts.AlertOutcome.Unautomated))
                     .GroupBy(a => (Day: a.ReceivedAt - (a.ReceivedAt % DayMs), a.Name, a.Source)))
        {
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO runbook_toil_unautomated (day_start, name, source, alerts, first_seen, last_seen)
                VALUES (@day, @name, @source, @count, @first, @last)
                ON CONFLICT (day_start, name, source) DO UPDATE SET
                    alerts = runbook_toil_unautomated.alerts + excluded.alerts,
                    first_seen = CASE WHEN excluded.first_seen < runbook_toil_unautomated.first_seen THEN excluded.first_seen ELSE runbook_toil_unautomated.first_seen END,
                    last_seen = CASE WHEN excluded.last_seen > runbook_toil_unautomated.last_seen THEN excluded.last_seen ELSE runbook_toil_unautomated.last_seen END
                """,
                new { day = day.Key.Day, name = day.Key.Name, source = day.Key.Source, count = (long)day.Count(), first = day.Min(a => a.ReceivedAt), last = day.Max(a => a.ReceivedAt) },
                transaction, cancellationToken: cancellationToken));
        }

        var parameters = new DynamicParameters();
        var list = InList("id", alerts.Select(a => a.Id), parameters);

        // A run summarised earlier may have seen its alert before the alert resolved; its last word is kept.
        await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE runbook_toil_runs SET alert_resolved_at = (SELECT a.resolved_at FROM runbook_alerts a WHERE a.id = runbook_toil_runs.alert_id)
            WHERE alert_id IN {list}
            """,
            parameters, transaction, cancellationToken: cancellationToken));
        await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_alert_decisions WHERE alert_id IN {list}", parameters, transaction, cancellationToken: cancellationToken));

        // A key left behind would make the next alert with it a "resend" of one that is gone.
        await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_alert_keys WHERE alert_id IN {list}", parameters, transaction, cancellationToken: cancellationToken));
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_alerts WHERE id IN {list}", parameters, transaction, cancellationToken: cancellationToken));

        // An incident goes with its last alert: with none left it has no story to tell, and its keys must not group new alerts.
        if (incidents.Count > 0)
        {
            var incidentParameters = new DynamicParameters();
            var incidentList = InList("i", incidents, incidentParameters);
            await connection.ExecuteAsync(new CommandDefinition(
                $"""
                DELETE FROM runbook_incident_keys WHERE incident_id IN {incidentList}
                  AND NOT EXISTS (SELECT 1 FROM runbook_alerts a WHERE a.incident_id = runbook_incident_keys.incident_id);
                DELETE FROM runbook_incidents WHERE id IN {incidentList}
                  AND NOT EXISTS (SELECT 1 FROM runbook_alerts a WHERE a.incident_id = runbook_incidents.id)
                """,
                incidentParameters, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredDeliveriesAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var ids = (await connection.QueryAsync<string>(new CommandDefinition(
            """
            SELECT d.id FROM runbook_deliveries d
            WHERE d.received_at < @cutoff AND NOT EXISTS (SELECT 1 FROM runbook_alerts a WHERE a.delivery = d.id)
            ORDER BY d.received_at, d.id
            LIMIT @batchSize
            """,
            new { cutoff = before.ToUnixTimeMilliseconds(), batchSize }, transaction, cancellationToken: cancellationToken))).ToList();
        if (ids.Count == 0)
        {
            return 0;
        }

        var parameters = new DynamicParameters();
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM runbook_deliveries WHERE id IN {InList("id", ids, parameters)}", parameters, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return deleted;
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredGitHubDeliveriesAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM runbook_github_deliveries WHERE delivery_id IN (
                SELECT delivery_id FROM runbook_github_deliveries WHERE received_at < @cutoff ORDER BY received_at, delivery_id LIMIT @batchSize)
            """,
            new { cutoff = before.ToUnixTimeMilliseconds(), batchSize }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredGitHubChecksAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM runbook_github_checks WHERE (head_sha, check_name) IN (
                SELECT head_sha, check_name FROM runbook_github_checks WHERE claimed_at < @cutoff ORDER BY claimed_at LIMIT @batchSize)
            """,
            new { cutoff = before.ToUnixTimeMilliseconds(), batchSize }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<int> DeleteExpiredNotificationsAsync(DateTimeOffset before, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // Only what is over: a delivery still due, or failing and waiting for a person's retry, stays whatever its age.
        var deleted = await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM runbook_notifications WHERE id IN (
                SELECT id FROM runbook_notifications WHERE state IN ('Delivered', 'Abandoned') AND created_at < @cutoff
                ORDER BY created_at, id LIMIT @batchSize)
            """,
            new { cutoff = before.ToUnixTimeMilliseconds(), batchSize }, cancellationToken: cancellationToken));

        // A chat message is updated as its run moves on; once the run is gone nothing will update it.
        await connection.ExecuteAsync(new CommandDefinition(
            """
            DELETE FROM runbook_notification_messages WHERE run_id IN (
                SELECT m.run_id FROM runbook_notification_messages m
                WHERE NOT EXISTS (SELECT 1 FROM runbook_runs r WHERE r.id = m.run_id) LIMIT @batchSize)
            """,
            new { batchSize }, cancellationToken: cancellationToken));
        return deleted;
    }

    /// <summary>
    /// Writes the toil summary of each run about to be deleted: the figures <see cref="ToilCalculator"/> gives from its
    /// journal now, and what grouping and time to remediate need of its alert.
    /// </summary>
    private async Task KeepToilAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        var parameters = new DynamicParameters();
        var list = InList("id", ids, parameters);
        var runs = await connection.QueryAsync<ToilRunRow>(new CommandDefinition(
            $"""
            SELECT r.id AS Id, r.runbook AS Runbook, r.status AS Status, r.trigger_kind AS TriggerKind, r.queued_at AS QueuedAt,
                   r.started_at AS StartedAt, r.finished_at AS FinishedAt, r.manual_minutes AS ManualMinutes, r.mode AS Mode,
                   a.id AS AlertId, a.source AS AlertSource, a.name AS AlertName, a.starts_at AS AlertStartsAt,
                   a.resolved_at AS AlertResolvedAt, a.labels AS AlertLabels
            FROM runbook_runs r LEFT JOIN runbook_alerts a ON a.id = r.alert_id
            WHERE r.id IN {list}
            """,
            parameters, transaction, cancellationToken: cancellationToken));

        // The same steps the live reports read, so the figures kept are the figures they showed.
        var steps = await connection.QueryAsync<StepRow>(new CommandDefinition(
            $"""
            SELECT run_id AS RunId, {StepColumns}
            FROM runbook_steps
            WHERE run_id IN {list} AND (kind <> 'Automated' OR manual_minutes IS NOT NULL)
            """,
            parameters, transaction, cancellationToken: cancellationToken));
        var byRun = steps.GroupBy(s => s.RunId).ToDictionary(g => g.Key, g => (IReadOnlyList<StepOutcome>)[.. g.Select(s => s.ToOutcome()).OrderBy(s => s.Sequence)]);
        var now = Now();
        foreach (var chunk in runs.Chunk(RowsPerStatement))
        {
            var sql = new StringBuilder("""
                INSERT INTO runbook_toil_runs (run_id, runbook, status, trigger_kind, queued_at, started_at, finished_at, manual_minutes,
                                               baseline_minutes, automated_minutes, human_minutes, saved_minutes, alert_id, alert_source,
                                               alert_name, alert_starts_at, alert_resolved_at, alert_labels, summarised_at)
                VALUES
                """);
            var values = new DynamicParameters();
            values.Add("now", now);
            for (var i = 0; i < chunk.Length; i++)
            {
                var run = chunk[i].ToToilRun(byRun.GetValueOrDefault(chunk[i].Id, []), null);
                var toil = ToilCalculator.ForRun(run.Status, run.StartedAt, run.FinishedAt, run.ManualMinutes, run.Steps, ToilCalculator.Acted(run.Trigger, run.Mode));
                sql.Append(CultureInfo.InvariantCulture, $"""
                    {(i == 0 ? "" : ",")}
                    (@id{i}, @runbook{i}, @status{i}, @trigger{i}, @queued{i}, @started{i}, @finished{i}, @manual{i}, @baseline{i}, @automated{i}, @human{i},
                     @saved{i}, @alert{i}, @alertSource{i}, @alertName{i}, @alertStarts{i}, @alertResolved{i}, @alertLabels{i}, @now)
                    """);
                values.Add($"id{i}", chunk[i].Id);
                values.Add($"runbook{i}", chunk[i].Runbook);
                values.Add($"status{i}", chunk[i].Status);
                values.Add($"trigger{i}", chunk[i].TriggerKind);
                values.Add($"queued{i}", chunk[i].QueuedAt);
                values.Add($"started{i}", chunk[i].StartedAt);
                values.Add($"finished{i}", chunk[i].FinishedAt);
                values.Add($"manual{i}", chunk[i].ManualMinutes);
                values.Add($"baseline{i}", toil.BaselineMinutes);
                values.Add($"automated{i}", toil.AutomatedMinutes);
                values.Add($"human{i}", toil.HumanMinutes);
                values.Add($"saved{i}", toil.SavedMinutes);
                values.Add($"alert{i}", chunk[i].AlertId);
                values.Add($"alertSource{i}", chunk[i].AlertSource);
                values.Add($"alertName{i}", chunk[i].AlertName);
                values.Add($"alertStarts{i}", chunk[i].AlertStartsAt);
                values.Add($"alertResolved{i}", chunk[i].AlertResolvedAt);
                values.Add($"alertLabels{i}", chunk[i].AlertLabels);
            }

            // The first summary of a run stands (one can only exist already if the run was restored from a backup).
            sql.Append(" ON CONFLICT (run_id) DO NOTHING");
            await connection.ExecuteAsync(new CommandDefinition(sql.ToString(), values, transaction, cancellationToken: cancellationToken));
        }
    }

    /// <summary>The retention lock: a PostgreSQL session holding its advisory lock, or nothing to hold on SQLite.</summary>
    private sealed class RetentionLock(DbConnection? connection) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            if (connection is null)
            {
                return;
            }

            try
            {
                await connection.ExecuteAsync($"SELECT pg_advisory_unlock({RetentionLockKey})");
            }
            finally
            {
                // Closing the session would release the lock anyway; the unlock only returns the connection clean.
                await connection.DisposeAsync();
            }
        }
    }
}
