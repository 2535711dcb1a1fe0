using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using RunbookEngine.Alerts;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

/// <summary>The alert half of the store: deliveries, alerts, decisions and breakers, on the same two databases.</summary>
public sealed partial class SqlRunStore
{
    // Rows per multi-row INSERT: far below both databases' parameter limits (SQLite 32,766, PostgreSQL 65,535) at 15
    // parameters a row, and small enough that SQLite's cost per named parameter stays flat.
    private const int RowsPerStatement = 50;

    private const string GroupSavepoint = "group_alerts";

    private const string AlertColumns = """
        id AS Id, delivery AS Delivery, source AS Source, name AS Name, status AS Status, severity AS Severity, labels AS Labels,
        annotations AS Annotations, starts_at AS StartsAt, ends_at AS EndsAt, fingerprint AS Fingerprint,
        source_delivery_id AS SourceDeliveryId, dedup_key AS DedupKey, received_at AS ReceivedAt, outcome AS Outcome,
        detail AS Detail, duplicate_of AS DuplicateOf, resolved_at AS ResolvedAt, trace_parent AS TraceParent,
        incident_id AS IncidentId, group_key AS GroupKey
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<StoredAlert>> IngestAsync(WebhookDelivery delivery, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var now = Now();
        var deliveryId = NewId();
        var ids = delivery.Alerts.Select(_ => NewId()).ToArray();
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Keys are claimed in one order (sorted), so two deliveries carrying the same keys in a different order never
        // deadlock; a key belongs to the first alert of this delivery that carries it.
        var firstWithKey = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < ids.Length; i++)
        {
            firstWithKey.TryAdd(delivery.Alerts[i].DedupKey, ids[i]);
        }

        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in firstWithKey.Chunk(RowsPerStatement))
        {
            var keys = new StringBuilder("INSERT INTO runbook_alert_keys (dedup_key, alert_id) VALUES ");
            var keyParameters = new DynamicParameters();
            for (var i = 0; i < chunk.Length; i++)
            {
                keys.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}(@k{i}, @a{i})");
                keyParameters.Add($"k{i}", chunk[i].Key);
                keyParameters.Add($"a{i}", chunk[i].Value);
            }

            keys.Append(" ON CONFLICT (dedup_key) DO NOTHING");
            await connection.ExecuteAsync(new CommandDefinition(keys.ToString(), keyParameters, transaction, cancellationToken: cancellationToken));

            // Whoever owns each key now (this request or an earlier one) is the original; everyone else is a resend.
            var ownerParameters = new DynamicParameters();
            var ownerKeys = InList("k", chunk.Select(c => c.Key), ownerParameters);
            foreach (var (key, alertId) in await connection.QueryAsync<(string DedupKey, string AlertId)>(new CommandDefinition(
                $"SELECT dedup_key, alert_id FROM runbook_alert_keys WHERE dedup_key IN {ownerKeys}",
                ownerParameters, transaction, cancellationToken: cancellationToken)))
            {
                owners[key] = alertId;
            }
        }

        // Grouping after the keys: a resend belongs to no incident, so it can neither join nor reopen one.
        var incidents = new Dictionary<int, string>();
        if (delivery.Incidents is not null)
        {
            // Grouping is worth less than the alert: when it fails, everything it wrote is rolled back and the alerts are
            // stored ungrouped. A lost connection fails the rollback too, and then the whole delivery, as it should.
            await transaction.SaveAsync(GroupSavepoint, cancellationToken);
            try
            {
                incidents = await AssignIncidentsAsync(connection, transaction, [.. Enumerable.Range(0, ids.Length)
                    .Where(i => delivery.Incidents[i] is not null && owners.GetValueOrDefault(delivery.Alerts[i].DedupKey) == ids[i])
                    .Select(i => (i, delivery.Incidents[i]!))], now, cancellationToken);
                await transaction.ReleaseAsync(GroupSavepoint, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                await transaction.RollbackAsync(GroupSavepoint, cancellationToken);
                incidents = [];
                delivery.OnGroupingFailed?.Invoke(ex);
            }
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO runbook_deliveries (id, source, received_at, source_delivery_id, payload, alerts) VALUES (@deliveryId, @Source, @now, @SourceDeliveryId, @Payload, @count)",
            new { deliveryId, delivery.Source, now, delivery.SourceDeliveryId, delivery.Payload, count = ids.Length }, transaction, cancellationToken: cancellationToken));

        var stored = new List<StoredAlert>(ids.Length);
        for (var offset = 0; offset < ids.Length; offset += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, ids.Length - offset);
            var rows = new StringBuilder("""
                INSERT INTO runbook_alerts (id, delivery, source, name, status, severity, labels, annotations, starts_at, ends_at, fingerprint,
                                            source_delivery_id, dedup_key, received_at, outcome, detail, duplicate_of, trace_parent, incident_id, group_key)
                VALUES
                """);
            var rowParameters = new DynamicParameters(new { deliveryId, now, traceParent = delivery.TraceParent });
            for (var j = 0; j < count; j++)
            {
                var i = offset + j;
                var (alert, key) = (delivery.Alerts[i].Alert, delivery.Alerts[i].DedupKey);
                var original = owners.GetValueOrDefault(key);
                var duplicateOf = original == ids[i] ? null : original;
                var unautomated = duplicateOf is null ? delivery.Unautomated?[i] : null;
                var outcome = duplicateOf is not null ? AlertOutcome.Duplicate : unautomated is not null ? AlertOutcome.Unautomated : AlertOutcome.Pending;
                stored.Add(new StoredAlert(ids[i], duplicateOf, alert.Status, outcome));
                rows.Append(CultureInfo.InvariantCulture, $"""
                    {(j == 0 ? "" : ",")}
                    (@id{j}, @deliveryId, @source{j}, @name{j}, @status{j}, @severity{j}, @labels{j}, @annotations{j}, @starts{j}, @ends{j}, @fingerprint{j},
                     @sdid{j}, @key{j}, @now, @outcome{j}, @detail{j}, @dup{j}, @traceParent, @incident{j}, @group{j})
                    """);
                rowParameters.Add($"id{j}", ids[i]);
                rowParameters.Add($"source{j}", alert.Source);
                rowParameters.Add($"name{j}", alert.Name);
                rowParameters.Add($"status{j}", alert.Status.ToString());
                rowParameters.Add($"severity{j}", alert.Severity);
                rowParameters.Add($"labels{j}", JsonSerializer.Serialize(alert.Labels));
                rowParameters.Add($"annotations{j}", JsonSerializer.Serialize(alert.Annotations));
                rowParameters.Add($"starts{j}", alert.StartsAt.ToUnixTimeMilliseconds());
                rowParameters.Add($"ends{j}", alert.EndsAt?.ToUnixTimeMilliseconds());
                rowParameters.Add($"fingerprint{j}", alert.Fingerprint);
                rowParameters.Add($"sdid{j}", alert.DeliveryId ?? delivery.SourceDeliveryId);
                rowParameters.Add($"key{j}", key);
                rowParameters.Add($"outcome{j}", outcome.ToString());
                rowParameters.Add($"detail{j}", duplicateOf is null ? unautomated : $"a resend of alert {duplicateOf}");
                rowParameters.Add($"dup{j}", duplicateOf);
                rowParameters.Add($"incident{j}", incidents.GetValueOrDefault(i));
                rowParameters.Add($"group{j}", delivery.Alerts[i].GroupKey);
            }

            await connection.ExecuteAsync(new CommandDefinition(rows.ToString(), rowParameters, transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return stored;
    }

    /// <inheritdoc />
    public async Task<AlertRecord?> ClaimAlertAsync(string alertId, string node, DateTimeOffset staleBefore, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_alerts SET outcome = 'Matching', claimed_by = @node, claimed_at = @now
            WHERE id = @alertId AND (outcome = 'Pending' OR (outcome = 'Matching' AND claimed_at < @stale))
            """,
            new { alertId, node, now = Now(), stale = staleBefore.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return changed == 1 ? await GetAlertAsync(alertId, cancellationToken) : null;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AlertRecord>> ClaimAlertsAsync(string node, DateTimeOffset pendingBefore, DateTimeOffset staleBefore, int limit, CancellationToken cancellationToken)
    {
        // One statement claims the whole batch. Taking the ids first and claiming by id keeps the statement the same on
        // both databases; the claim's own condition is what makes it safe when two nodes take the same ids.
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var now = Now();
        var rows = await connection.QueryAsync<AlertRow>(new CommandDefinition(
            $"""
            UPDATE runbook_alerts SET outcome = 'Matching', claimed_by = @node, claimed_at = @now
            WHERE id IN (
                SELECT id FROM runbook_alerts
                WHERE (outcome = 'Pending' AND received_at < @pending) OR (outcome = 'Matching' AND claimed_at < @stale)
                ORDER BY received_at LIMIT @limit)
              AND (outcome = 'Pending' OR (outcome = 'Matching' AND claimed_at < @stale))
            RETURNING {AlertColumns}
            """,
            new { node, now, pending = pendingBefore.ToUnixTimeMilliseconds(), stale = staleBefore.ToUnixTimeMilliseconds(), limit },
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord()).OrderBy(r => r.ReceivedAt)];
    }

    /// <inheritdoc />
    public async Task SetOutcomesAsync(IReadOnlyCollection<string> alertIds, AlertOutcome outcome, string? detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alertIds);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        foreach (var chunk in alertIds.Chunk(500))
        {
            var parameters = new DynamicParameters(new { outcome = outcome.ToString(), detail });
            var list = InList("a", chunk, parameters);
            await connection.ExecuteAsync(new CommandDefinition(
                $"UPDATE runbook_alerts SET outcome = @outcome, detail = @detail WHERE id IN {list}", parameters, cancellationToken: cancellationToken));
        }
    }

    /// <inheritdoc />
    public async Task<bool> AddDecisionAsync(string alertId, AlertDecision decision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decision);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_alert_decisions (alert_id, runbook, decision, run_id, reason, decided_at)
            VALUES (@alertId, @Runbook, @kind, @RunId, @Reason, @at)
            ON CONFLICT (alert_id, runbook) DO NOTHING
            """,
            new { alertId, decision.Runbook, kind = decision.Decision.ToString(), decision.RunId, decision.Reason, at = decision.DecidedAt.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken)) == 1;
    }

    /// <inheritdoc />
    public async Task SetOutcomeAsync(string alertId, AlertOutcome outcome, string? detail, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runbook_alerts SET outcome = @outcome, detail = @detail WHERE id = @alertId",
            new { alertId, outcome = outcome.ToString(), detail }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ResolveAlertsAsync(string source, string fingerprint, DateTimeOffset? startsAt, DateTimeOffset resolvedAt, DateTimeOffset? receivedBy, CancellationToken cancellationToken)
    {
        // One statement that both closes and reports: two resolutions arriving together cannot both claim an alert.
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var rows = (await connection.QueryAsync<(string Id, string? IncidentId)>(new CommandDefinition(
            """
            UPDATE runbook_alerts SET resolved_at = @resolved
            WHERE source = @source AND fingerprint = @fingerprint AND status = 'Firing' AND resolved_at IS NULL AND outcome <> 'Duplicate'
              AND (@starts IS NULL OR starts_at = @starts) AND (@receivedBy IS NULL OR received_at <= @receivedBy)
            RETURNING id, incident_id
            """,
            new { source, fingerprint, starts = startsAt?.ToUnixTimeMilliseconds(), resolved = resolvedAt.ToUnixTimeMilliseconds(), receivedBy = receivedBy?.ToUnixTimeMilliseconds() },
            transaction, cancellationToken: cancellationToken))).ToList();
        await CloseIncidentsAsync(connection, transaction, [.. rows.Select(r => r.IncidentId).OfType<string>().Distinct(StringComparer.Ordinal)], cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return [.. rows.Select(r => r.Id)];
    }

    /// <inheritdoc />
    public async Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<AlertRow>(new CommandDefinition(
            $"SELECT {AlertColumns} FROM runbook_alerts WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<string?> GetPayloadAsync(string deliveryRowId, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT payload FROM runbook_deliveries WHERE id = @deliveryRowId", new { deliveryRowId }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AlertDecision>> GetDecisionsAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string Runbook, string Decision, string? RunId, string? Reason, long DecidedAt)>(new CommandDefinition(
            "SELECT runbook, decision, run_id, reason, decided_at FROM runbook_alert_decisions WHERE alert_id = @alertId ORDER BY runbook",
            new { alertId }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new AlertDecision(r.Runbook, Enum.Parse<AlertDecisionKind>(r.Decision), r.RunId, r.Reason, FromMs(r.DecidedAt)))];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<AlertRecord>> ListAlertsAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 500);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        long? cursorTime = null;
        if (query.Before is not null)
        {
            cursorTime = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT received_at FROM runbook_alerts WHERE id = @id", new { id = query.Before }, cancellationToken: cancellationToken));
            if (cursorTime is null)
            {
                return [];
            }
        }

        string[]? outcomes = query.Matched switch
        {
            true => [nameof(AlertOutcome.Started), nameof(AlertOutcome.Guarded)],
            false => [nameof(AlertOutcome.Unautomated)],
            null => null,
        };
        if (query.Outcome is { } outcome)
        {
            outcomes = outcomes is null ? [outcome.ToString()] : [.. outcomes.Where(o => o == outcome.ToString())];
        }

        var parameters = new DynamicParameters(new
        {
            status = query.Status?.ToString(),
            source = query.Source,
            anyOutcome = outcomes is null ? 1 : 0,
            cursorTime,
            cursorId = query.Before,
            limit,
        });
        var outcomeList = InList("o", outcomes is null || outcomes.Length == 0 ? ["-"] : outcomes, parameters);
        var rows = await connection.QueryAsync<AlertRow>(new CommandDefinition(
            $"""
            SELECT {AlertColumns} FROM runbook_alerts
            WHERE (@status IS NULL OR status = @status)
              AND (@source IS NULL OR source = @source)
              AND (@anyOutcome = 1 OR outcome IN {outcomeList})
              AND (@cursorTime IS NULL OR received_at < @cursorTime OR (received_at = @cursorTime AND id < @cursorId))
            ORDER BY received_at DESC, id DESC
            LIMIT @limit
            """,
            parameters,
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunRecord>> RunsForAlertAsync(string alertId, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<RunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runbook_runs WHERE alert_id = @alertId ORDER BY queued_at", new { alertId }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<RunRecord?> RecentRunForTargetAsync(string runbook, string target, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QueryFirstOrDefaultAsync<RunRow>(new CommandDefinition(
            $"""
            SELECT {RunColumns} FROM runbook_runs
            WHERE runbook = @runbook AND target = @target AND (finished_at IS NULL OR finished_at >= @since)
            ORDER BY queued_at DESC LIMIT 1
            """,
            new { runbook, target, since = since.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<(int Runs, int Failures)> AlertRunCountsAsync(string runbook, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var counts = await connection.QuerySingleAsync<(long Runs, long Failures)>(new CommandDefinition(
            """
            SELECT COUNT(*), COALESCE(SUM(CASE WHEN status IN ('Failed', 'TimedOut') THEN 1 ELSE 0 END), 0)
            FROM runbook_runs WHERE runbook = @runbook AND trigger_kind = 'Alert' AND queued_at >= @since
            """,
            new { runbook, since = since.ToUnixTimeMilliseconds() }, cancellationToken: cancellationToken));
        return ((int)counts.Runs, (int)counts.Failures);
    }

    /// <inheritdoc />
    public async Task<BreakerRecord?> GetBreakerAsync(string runbook, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<BreakerRow>(new CommandDefinition(
            "SELECT runbook AS Runbook, opened_at AS OpenedAt, open_until AS OpenUntil, reason AS Reason, reset_by AS ResetBy, reset_at AS ResetAt FROM runbook_breakers WHERE runbook = @runbook",
            new { runbook }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<BreakerRecord>> ListBreakersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<BreakerRow>(new CommandDefinition(
            "SELECT runbook AS Runbook, opened_at AS OpenedAt, open_until AS OpenUntil, reason AS Reason, reset_by AS ResetBy, reset_at AS ResetAt FROM runbook_breakers ORDER BY runbook",
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<bool> OpenBreakerAsync(string runbook, DateTimeOffset until, string reason, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var opened = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_breakers (runbook, opened_at, open_until, reason) VALUES (@runbook, @now, @until, @reason)
            ON CONFLICT (runbook) DO UPDATE SET opened_at = excluded.opened_at, open_until = excluded.open_until, reason = excluded.reason
            WHERE runbook_breakers.open_until IS NULL OR runbook_breakers.open_until <= @now
            """,
            new { runbook, now, until = until.ToUnixTimeMilliseconds(), reason }, transaction, cancellationToken: cancellationToken)) == 1;
        if (opened)
        {
            // Only the node whose write opened the breaker tells anyone, in the same transaction.
            await AddNotificationAsync(connection, transaction, Scripting.FrontMatter.NotifyEvents.BreakerOpened, runbook, reason, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return opened;
    }

    /// <inheritdoc />
    public async Task ResetBreakerAsync(string runbook, string by, CancellationToken cancellationToken)
    {
        var now = Now();
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_breakers (runbook, reset_by, reset_at) VALUES (@runbook, @by, @now)
            ON CONFLICT (runbook) DO UPDATE SET open_until = NULL, reset_by = excluded.reset_by, reset_at = excluded.reset_at
            """,
            new { runbook, by, now }, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// <c>(@p0, @p1, ...)</c> with the values added as parameters. Dapper's own <c>IN @list</c> expansion is not used:
    /// with Npgsql it sends a single array parameter, which <c>IN</c> does not accept.
    /// </summary>
    private static string InList(string prefix, IEnumerable<string> values, DynamicParameters parameters)
    {
        var names = new List<string>();
        foreach (var value in values)
        {
            var name = $"{prefix}{names.Count}";
            parameters.Add(name, value);
            names.Add("@" + name);
        }

        return $"({string.Join(", ", names)})";
    }

    private string NewId() => Guid.CreateVersion7(_time.GetUtcNow()).ToString("N");

    private sealed class AlertRow
    {
        public string Id { get; set; } = "";
        public string Delivery { get; set; } = "";
        public string Source { get; set; } = "";
        public string Name { get; set; } = "";
        public string Status { get; set; } = "";
        public string? Severity { get; set; }
        public string Labels { get; set; } = "{}";
        public string Annotations { get; set; } = "{}";
        public long StartsAt { get; set; }
        public long? EndsAt { get; set; }
        public string Fingerprint { get; set; } = "";
        public string? SourceDeliveryId { get; set; }
        public string DedupKey { get; set; } = "";
        public long ReceivedAt { get; set; }
        public string Outcome { get; set; } = "";
        public string? Detail { get; set; }
        public string? DuplicateOf { get; set; }
        public long? ResolvedAt { get; set; }

        public string? TraceParent { get; set; }

        public string? IncidentId { get; set; }

        public string? GroupKey { get; set; }

        public AlertRecord ToRecord() => new(
            Id,
            new RunbookAlert(Source, Name, Enum.Parse<AlertStatus>(Status), Severity,
                JsonSerializer.Deserialize<Dictionary<string, string>>(Labels) ?? [],
                JsonSerializer.Deserialize<Dictionary<string, string>>(Annotations) ?? [],
                FromMs(StartsAt), FromMs(EndsAt), Fingerprint, SourceDeliveryId),
            Delivery, DedupKey, FromMs(ReceivedAt), Enum.Parse<AlertOutcome>(Outcome), Detail, DuplicateOf, FromMs(ResolvedAt), TraceParent, IncidentId, GroupKey);
    }

    private sealed class BreakerRow
    {
        public string Runbook { get; set; } = "";
        public long? OpenedAt { get; set; }
        public long? OpenUntil { get; set; }
        public string? Reason { get; set; }
        public string? ResetBy { get; set; }
        public long? ResetAt { get; set; }

        public BreakerRecord ToRecord() => new(Runbook, FromMs(OpenedAt), FromMs(OpenUntil), Reason, ResetBy, FromMs(ResetAt));
    }
}
