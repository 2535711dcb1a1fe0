using System.Data.Common;
using System.Globalization;
using System.Text;
using Dapper;
using RunbookEngine.Alerts;
using RunbookEngine.Incidents;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

/// <summary>The incident half of the store: grouping alerts as they are stored, closing incidents, reading them.</summary>
public sealed partial class SqlRunStore : IIncidentStore
{
    private const string IncidentColumns = """
        i.id AS Id, i.title AS Title, i.service AS Service, i.group_rule AS GroupRule, i.group_key AS GroupKey, i.state AS State,
        i.opened_at AS OpenedAt, i.closed_at AS ClosedAt, i.last_alert_at AS LastAlertAt,
        (SELECT COUNT(*) FROM runbook_alerts a WHERE a.incident_id = i.id) AS Alerts
        """;

    /// <inheritdoc />
    public async Task<IReadOnlyList<IncidentRecord>> ListIncidentsAsync(IncidentQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 500);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        long? cursorTime = null;
        if (query.Before is not null)
        {
            cursorTime = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT opened_at FROM runbook_incidents WHERE id = @id", new { id = query.Before }, cancellationToken: cancellationToken));
            if (cursorTime is null)
            {
                return [];
            }
        }

        var where = new List<string>();
        void Filter(object? value, string condition)
        {
            if (value is not null)
            {
                where.Add(condition);
            }
        }

        Filter(query.State, "i.state = @state");
        Filter(query.Service, "i.service = @service");
        Filter(query.Since, "i.opened_at >= @since");
        Filter(query.Until, "i.opened_at < @until");
        Filter(cursorTime, "i.opened_at <= @cursorTime AND (i.opened_at < @cursorTime OR (i.opened_at = @cursorTime AND i.id < @cursorId))");
        var rows = await connection.QueryAsync<IncidentRow>(new CommandDefinition(
            $"""
            SELECT {IncidentColumns} FROM runbook_incidents i
            {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY i.opened_at DESC, i.id DESC
            LIMIT @limit
            """,
            new
            {
                state = query.State?.ToString(),
                service = query.Service,
                since = query.Since?.ToUnixTimeMilliseconds(),
                until = query.Until?.ToUnixTimeMilliseconds(),
                cursorTime,
                cursorId = query.Before,
                limit,
            },
            cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<IncidentRecord?> GetIncidentAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await GetIncidentAsync(connection, id, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<IncidentFacts?> GetIncidentFactsAsync(string id, int? maxAlerts, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        if (await GetIncidentAsync(connection, id, cancellationToken) is not { } incident)
        {
            return null;
        }

        // Reads by the incident, never one per alert or run, so an incident of thousands of alerts costs what one of ten does.
        var alerts = await connection.QueryAsync<AlertRow>(new CommandDefinition(
            $"SELECT {AlertColumns} FROM runbook_alerts WHERE incident_id = @id ORDER BY received_at, id{(maxAlerts is null ? "" : " LIMIT @maxAlerts")}",
            new { id, maxAlerts }, cancellationToken: cancellationToken));
        var totals = await connection.QuerySingleAsync<(long Count, long Unautomated, long? FirstStart, long? FirstReceived)>(new CommandDefinition(
            """
            SELECT COUNT(*), COALESCE(SUM(CASE WHEN outcome = 'Unautomated' THEN 1 ELSE 0 END), 0), MIN(starts_at), MIN(received_at)
            FROM runbook_alerts WHERE incident_id = @id
            """,
            new { id }, cancellationToken: cancellationToken));
        // The rest is bounded too, so a storm of an incident costs a bounded read: its earliest decisions and runs, and of
        // each step output only the tail an excerpt is cut from.
        var decisions = await connection.QueryAsync<(string AlertId, string Runbook, string Decision, string? RunId, string? Reason, long DecidedAt)>(new CommandDefinition(
            """
            SELECT d.alert_id, d.runbook, d.decision, d.run_id, d.reason, d.decided_at
            FROM runbook_alert_decisions d JOIN runbook_alerts a ON a.id = d.alert_id
            WHERE a.incident_id = @id ORDER BY d.decided_at, d.alert_id, d.runbook
            LIMIT @limit
            """,
            new { id, limit = IncidentFacts.MaxDecisions }, cancellationToken: cancellationToken));
        var runs = (await connection.QueryAsync<RunRow>(new CommandDefinition(
            $"""
            SELECT {RunColumns} FROM runbook_runs
            WHERE alert_id IN (SELECT id FROM runbook_alerts WHERE incident_id = @id)
            ORDER BY queued_at, id
            LIMIT @limit
            """,
            new { id, limit = IncidentFacts.MaxRuns }, cancellationToken: cancellationToken))).ToList();
        var steps = new List<StepRow>();
        foreach (var chunk in runs.Select(r => r.Id).Chunk(500))
        {
            var parameters = new DynamicParameters(new { tail = IncidentFacts.OutputTail });
            var tailed = StepColumns.Replace("output AS Output", "CASE WHEN length(output) > @tail THEN substr(output, length(output) - @tail + 1) ELSE output END AS Output", StringComparison.Ordinal);
            steps.AddRange(await connection.QueryAsync<StepRow>(new CommandDefinition(
                $"SELECT run_id AS RunId, {tailed} FROM runbook_steps WHERE run_id IN {InList("r", chunk, parameters)} ORDER BY run_id, sequence",
                parameters, cancellationToken: cancellationToken)));
        }

        return new IncidentFacts(
            incident,
            [.. alerts.Select(a => a.ToRecord())],
            [.. decisions.Select(d => (d.AlertId, new AlertDecision(d.Runbook, Enum.Parse<AlertDecisionKind>(d.Decision), d.RunId, d.Reason, FromMs(d.DecidedAt))))],
            [.. runs.Select(r => r.ToRecord())],
            steps.GroupBy(s => s.RunId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (IReadOnlyList<StepOutcome>)[.. g.Select(s => s.ToOutcome())], StringComparer.Ordinal))
        {
            Totals = new AlertTotals((int)totals.Count, (int)totals.Unautomated, FromMs(totals.FirstStart), FromMs(totals.FirstReceived)),
        };
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<IncidentFacts>> GetIncidentFiguresFactsAsync(DateTimeOffset since, DateTimeOffset until, int max, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var incidents = (await connection.QueryAsync<IncidentRow>(new CommandDefinition(
            $"""
            SELECT {IncidentColumns} FROM runbook_incidents i
            WHERE i.opened_at >= @since AND i.opened_at < @until
            ORDER BY i.opened_at DESC, i.id DESC
            LIMIT @max
            """,
            new { since = since.ToUnixTimeMilliseconds(), until = until.ToUnixTimeMilliseconds(), max = Math.Max(0, max) }, cancellationToken: cancellationToken))).ToList();

        var totals = new Dictionary<string, AlertTotals>(StringComparer.Ordinal);
        var runs = new List<(string Incident, RunRow Run)>();
        foreach (var chunk in incidents.Select(i => i.Id).Chunk(500))
        {
            var parameters = new DynamicParameters();
            var list = InList("i", chunk, parameters);
            foreach (var t in await connection.QueryAsync<(string Incident, long Count, long Unautomated, long? FirstStart, long? FirstReceived)>(new CommandDefinition(
                $"""
                SELECT incident_id, COUNT(*), COALESCE(SUM(CASE WHEN outcome = 'Unautomated' THEN 1 ELSE 0 END), 0), MIN(starts_at), MIN(received_at)
                FROM runbook_alerts WHERE incident_id IN {list} GROUP BY incident_id
                """,
                parameters, cancellationToken: cancellationToken)))
            {
                totals[t.Incident] = new AlertTotals((int)t.Count, (int)t.Unautomated, FromMs(t.FirstStart), FromMs(t.FirstReceived));
            }

            var alertIncidents = (await connection.QueryAsync<(string Alert, string Incident)>(new CommandDefinition(
                $"""
                SELECT a.id, a.incident_id FROM runbook_alerts a
                WHERE a.incident_id IN {list} AND EXISTS (SELECT 1 FROM runbook_runs r WHERE r.alert_id = a.id)
                """,
                parameters, cancellationToken: cancellationToken))).ToDictionary(a => a.Alert, a => a.Incident, StringComparer.Ordinal);
            foreach (var alerts in alertIncidents.Keys.Chunk(500))
            {
                var runParameters = new DynamicParameters();
                runs.AddRange((await connection.QueryAsync<RunRow>(new CommandDefinition(
                    $"SELECT {RunColumns} FROM runbook_runs WHERE alert_id IN {InList("a", alerts, runParameters)}",
                    runParameters, cancellationToken: cancellationToken))).Select(r => (alertIncidents[r.AlertId!], r)));
            }
        }

        // As one incident's read: its earliest runs (by queue time) and their steps, whose output no figure needs.
        var kept = runs.GroupBy(r => r.Incident, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(r => r.Run).OrderBy(r => r.QueuedAt).ThenBy(r => r.Id, StringComparer.Ordinal).Take(IncidentFacts.MaxRuns).ToList(), StringComparer.Ordinal);
        var steps = new List<StepRow>();
        var noOutput = StepColumns.Replace("output AS Output", "'' AS Output", StringComparison.Ordinal);
        foreach (var chunk in kept.Values.SelectMany(r => r).Select(r => r.Id).Chunk(500))
        {
            var parameters = new DynamicParameters();
            steps.AddRange(await connection.QueryAsync<StepRow>(new CommandDefinition(
                $"SELECT run_id AS RunId, {noOutput} FROM runbook_steps WHERE run_id IN {InList("s", chunk, parameters)} ORDER BY run_id, sequence",
                parameters, cancellationToken: cancellationToken)));
        }

        var stepsByRun = steps.GroupBy(s => s.RunId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<StepOutcome>)[.. g.Select(s => s.ToOutcome())], StringComparer.Ordinal);
        return [.. incidents.Select(i =>
        {
            var incidentRuns = kept.GetValueOrDefault(i.Id) ?? [];
            return new IncidentFacts(
                i.ToRecord(),
                [],
                [],
                [.. incidentRuns.Select(r => r.ToRecord())],
                incidentRuns.Where(r => stepsByRun.ContainsKey(r.Id)).ToDictionary(r => r.Id, r => stepsByRun[r.Id], StringComparer.Ordinal))
            {
                Totals = totals.GetValueOrDefault(i.Id) ?? new AlertTotals(0, 0, null, null),
            };
        })];
    }

    private static async Task<IncidentRecord?> GetIncidentAsync(DbConnection connection, string id, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleOrDefaultAsync<IncidentRow>(new CommandDefinition(
            $"SELECT {IncidentColumns} FROM runbook_incidents i WHERE i.id = @id", new { id }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <summary>
    /// Puts each new firing alert of a delivery into an incident, in the delivery's transaction: the open incident that
    /// owns the first of its keys (in the rules' order), else a new one. Two nodes grouping related alerts at once race
    /// on the keys' primary key. The assignment runs inside a savepoint; when a new incident of ours did not get every
    /// key it wanted, another node won one of them and has committed (the upsert waited for it), so the savepoint is
    /// rolled back and the assignment runs again, this time seeing the winner's keys and joining it through the normal
    /// path, which locks the winner's row and reopens it if a close got there first.
    /// </summary>
    private async Task<Dictionary<int, string>> AssignIncidentsAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<(int Index, IncidentGroup Group)> candidates, long now, CancellationToken cancellationToken)
    {
        if (candidates.Count == 0)
        {
            return [];
        }

        // Each retry follows a commit that took a key we wanted, so it sees at least one more owner than the last try;
        // the bound only guards against a pathological churn of keys expiring and being taken over.
        var keyCount = candidates.Sum(c => c.Group.Keys.Count);
        for (var attempt = 0; ; attempt++)
        {
            await transaction.SaveAsync(AssignSavepoint, cancellationToken);
            var (assigned, lost) = await TryAssignIncidentsAsync(connection, transaction, candidates, now, cancellationToken);
            if (!lost || attempt >= keyCount + 2)
            {
                await transaction.ReleaseAsync(AssignSavepoint, cancellationToken);
                return assigned;
            }

            await transaction.RollbackAsync(AssignSavepoint, cancellationToken);
        }
    }

    private const string AssignSavepoint = "assign_incidents";

    private async Task<(Dictionary<int, string> Assigned, bool Lost)> TryAssignIncidentsAsync(
        DbConnection connection, DbTransaction transaction, IReadOnlyList<(int Index, IncidentGroup Group)> candidates, long now, CancellationToken cancellationToken)
    {
        var assigned = new Dictionary<int, string>();
        var allKeys = candidates.SelectMany(c => c.Group.Keys.Select(k => k.Key)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var owners = await KeyOwnersAsync(connection, transaction, allKeys, now, cancellationToken);
        var existing = owners.Values.ToHashSet(StringComparer.Ordinal);
        var created = new Dictionary<string, IncidentGroup>(StringComparer.Ordinal);
        var wanted = new SortedDictionary<string, (string Incident, long? ExpiresAt)>(StringComparer.Ordinal);
        foreach (var (index, group) in candidates)
        {
            var incident = group.Keys.Select(k => owners.GetValueOrDefault(k.Key)).FirstOrDefault(o => o is not null);
            if (incident is null)
            {
                incident = NewId();
                created[incident] = group;
            }

            assigned[index] = incident;
            foreach (var key in group.Keys)
            {
                // A key another incident holds stays with it; the alert joins one incident and renews only that one's keys.
                if (owners.TryAdd(key.Key, incident) || owners[key.Key] == incident)
                {
                    wanted[key.Key] = (incident, key.Window is { } window ? now + (long)window.TotalMilliseconds : null);
                }
            }
        }

        // Joined incidents are locked before any key is written, in the order a close takes them, so the two never deadlock;
        // a close that got there first is undone, since the alert joining is firing. One that vanished (retention deleted
        // it between our read of its keys and now) is treated as unowned: the assignment runs again without it.
        var joined = assigned.Values.Where(existing.Contains).Distinct(StringComparer.Ordinal).ToList();
        if (await TouchIncidentsAsync(connection, transaction, joined, now, cancellationToken) < joined.Count)
        {
            return (assigned, true);
        }

        foreach (var chunk in created.Chunk(RowsPerStatement))
        {
            var sql = new StringBuilder("INSERT INTO runbook_incidents (id, title, service, group_rule, group_key, state, opened_at, last_alert_at) VALUES ");
            var parameters = new DynamicParameters(new { now });
            for (var i = 0; i < chunk.Length; i++)
            {
                var (id, group) = chunk[i];
                sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}(@id{i}, @title{i}, @service{i}, @rule{i}, @key{i}, 'Open', @now, @now)");
                parameters.Add($"id{i}", id);
                parameters.Add($"title{i}", group.Title);
                parameters.Add($"service{i}", group.Service);
                parameters.Add($"rule{i}", group.Keys[0].Rule);
                parameters.Add($"key{i}", group.Keys[0].Key);
            }

            await connection.ExecuteAsync(new CommandDefinition(sql.ToString(), parameters, transaction, cancellationToken: cancellationToken));
        }

        // In the savepoint with the incident: a node that loses the race and groups again takes its notice back with it.
        foreach (var (id, group) in created)
        {
            await AddNotificationAsync(connection, transaction, Scripting.FrontMatter.NotifyEvents.IncidentOpened, null, IncidentNotice(id, group.Title, group.Service), cancellationToken);
        }

        foreach (var chunk in wanted.Chunk(RowsPerStatement))
        {
            var sql = new StringBuilder("INSERT INTO runbook_incident_keys (group_key, incident_id, expires_at) VALUES ");
            var parameters = new DynamicParameters(new { now });
            for (var i = 0; i < chunk.Length; i++)
            {
                sql.Append(CultureInfo.InvariantCulture, $"{(i == 0 ? "" : ", ")}(@k{i}, @i{i}, @e{i})");
                parameters.Add($"k{i}", chunk[i].Key);
                parameters.Add($"i{i}", chunk[i].Value.Incident);
                parameters.Add($"e{i}", chunk[i].Value.ExpiresAt);
            }

            // A key is taken over only when its window has passed; held by the same incident, its window is renewed.
            sql.Append("""
                 ON CONFLICT (group_key) DO UPDATE SET incident_id = excluded.incident_id, expires_at = excluded.expires_at
                WHERE runbook_incident_keys.incident_id = excluded.incident_id OR runbook_incident_keys.expires_at < @now
                """);
            await connection.ExecuteAsync(new CommandDefinition(sql.ToString(), parameters, transaction, cancellationToken: cancellationToken));
        }

        if (created.Count == 0)
        {
            return (assigned, false);
        }

        // Read back who holds each key a new incident wanted: another node may have won one between our read and our
        // write, whichever key it was (not only an alert's first), and then this assignment is stale.
        var newKeys = wanted.Where(w => created.ContainsKey(w.Value.Incident)).Select(w => w.Key).ToList();
        var held = await KeyOwnersAsync(connection, transaction, newKeys, now, cancellationToken);
        return (assigned, newKeys.Any(k => held.GetValueOrDefault(k) != wanted[k].Incident));
    }

    private static async Task<int> TouchIncidentsAsync(DbConnection connection, DbTransaction transaction, List<string> ids, long now, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return 0;
        }

        var parameters = new DynamicParameters(new { now });
        var list = InList("t", ids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal), parameters);
        return await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE runbook_incidents SET state = 'Open', closed_at = NULL, last_alert_at = @now WHERE id IN {list}",
            parameters, transaction, cancellationToken: cancellationToken));
    }

    private static async Task<Dictionary<string, string>> KeyOwnersAsync(DbConnection connection, DbTransaction transaction, IReadOnlyList<string> keys, long now, CancellationToken cancellationToken)
    {
        var owners = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var chunk in keys.Chunk(500))
        {
            var parameters = new DynamicParameters(new { now });
            var list = InList("k", chunk, parameters);
            foreach (var (key, incident) in await connection.QueryAsync<(string, string)>(new CommandDefinition(
                $"SELECT group_key, incident_id FROM runbook_incident_keys WHERE group_key IN {list} AND (expires_at IS NULL OR expires_at >= @now)",
                parameters, transaction, cancellationToken: cancellationToken)))
            {
                owners[key] = incident;
            }
        }

        return owners;
    }

    /// <summary>
    /// Closes each of these incidents whose alerts have all resolved, at its last resolution, and frees its keys. Each is
    /// locked first: two resolutions of the last two alerts, committed at once, would otherwise each still see the other
    /// alert open and leave the incident open for good.
    /// </summary>
    private async Task CloseIncidentsAsync(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<string> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return;
        }

        var parameters = new DynamicParameters();
        var list = InList("c", ids.Order(StringComparer.Ordinal), parameters);
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE runbook_incidents SET last_alert_at = last_alert_at WHERE id IN {list}", parameters, transaction, cancellationToken: cancellationToken));
        var closed = (await connection.QueryAsync<ClosedIncident>(new CommandDefinition(
            $"""
            UPDATE runbook_incidents
            SET state = 'Closed', closed_at = (SELECT MAX(a.resolved_at) FROM runbook_alerts a WHERE a.incident_id = runbook_incidents.id)
            WHERE id IN {list} AND state = 'Open'
              AND NOT EXISTS (SELECT 1 FROM runbook_alerts a WHERE a.incident_id = runbook_incidents.id AND a.resolved_at IS NULL)
            RETURNING id, title, service
            """,
            parameters, transaction, cancellationToken: cancellationToken))).ToList();
        if (closed.Count > 0)
        {
            var keyParameters = new DynamicParameters();
            await connection.ExecuteAsync(new CommandDefinition(
                $"DELETE FROM runbook_incident_keys WHERE incident_id IN {InList("d", closed.Select(c => c.Id), keyParameters)}", keyParameters, transaction, cancellationToken: cancellationToken));
            foreach (var incident in closed)
            {
                await AddNotificationAsync(connection, transaction, Scripting.FrontMatter.NotifyEvents.IncidentClosed, null, IncidentNotice(incident.Id, incident.Title, incident.Service), cancellationToken);
            }
        }
    }

    private static string IncidentNotice(string id, string title, string? service) =>
        $"{title}{(service is null ? "" : $" on {service}")}: incident {id}, /incidents/{id}";

    private sealed record ClosedIncident(string Id, string Title, string? Service);

    private sealed class IncidentRow
    {
        public string Id { get; set; } = "";
        public string Title { get; set; } = "";
        public string? Service { get; set; }
        public string GroupRule { get; set; } = "";
        public string GroupKey { get; set; } = "";
        public string State { get; set; } = "";
        public long OpenedAt { get; set; }
        public long? ClosedAt { get; set; }
        public long LastAlertAt { get; set; }
        public long Alerts { get; set; }

        public IncidentRecord ToRecord() => new(Id, Title, Service, GroupRule, GroupKey, Enum.Parse<IncidentState>(State), FromMs(OpenedAt), FromMs(ClosedAt), FromMs(LastAlertAt), (int)Alerts);
    }
}
