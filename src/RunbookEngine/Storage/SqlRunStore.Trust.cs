using System.Text.Json;
using Dapper;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore : ITrustStore
{
    private static readonly JsonSerializerOptions ProposalJson = new(JsonSerializerDefaults.Web);

    /// <inheritdoc />
    public async Task SetModeAsync(string id, RunMode mode, string? claim, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runbook_runs SET mode = @mode WHERE id = @id AND (@claim IS NULL OR execution = @claim)",
            new { id, mode = mode == RunMode.Auto ? null : mode.ToString().ToLowerInvariant(), claim }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<bool> ProposeAsync(string id, RunProposal proposal, string? claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(proposal);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE runbook_runs SET status = 'Proposed', error = NULL, finished_at = @now, proposal = @proposal
            WHERE id = @id AND status NOT IN {RunStatuses.TerminalSql} AND (@claim IS NULL OR execution = @claim)
            """,
            new { id, now = Now(), proposal = JsonSerializer.Serialize(proposal, ProposalJson), claim }, cancellationToken: cancellationToken));
        return changed == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Trust.Freshness.FreshnessFacts>> FreshnessFactsAsync(string? runbook, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var facts = new Dictionary<string, Trust.Freshness.FreshnessFacts>(StringComparer.Ordinal);
        Trust.Freshness.FreshnessFacts For(string name) => facts.TryGetValue(name, out var known) ? known : facts[name] = new Trust.Freshness.FreshnessFacts(name);

        // One pass over ended runs, grouped: a shadow run's proposal proves its probes work as a success does.
        var runs = await connection.QueryAsync<FreshnessRunRow>(new CommandDefinition(
            """
            SELECT runbook AS Runbook,
                   MAX(CASE WHEN trigger_kind <> 'Drill' AND status IN ('Succeeded', 'Proposed') THEN finished_at END) AS LastSuccess,
                   MAX(CASE WHEN trigger_kind = 'Drill' AND status IN ('Succeeded', 'Proposed') THEN finished_at END) AS LastPassingDrill,
                   MAX(CASE WHEN trigger_kind = 'Drill' AND status IN ('Failed', 'TimedOut') THEN finished_at END) AS LastFailingDrill
            FROM runbook_runs
            WHERE status IN ('Succeeded', 'Proposed', 'Failed', 'TimedOut') AND finished_at IS NOT NULL AND (@runbook IS NULL OR runbook = @runbook)
            GROUP BY runbook
            """,
            new { runbook }, cancellationToken: cancellationToken));
        foreach (var row in runs)
        {
            facts[row.Runbook] = For(row.Runbook) with
            {
                LastSuccessAt = FromMs(row.LastSuccess), LastPassingDrillAt = FromMs(row.LastPassingDrill), LastFailingDrillAt = FromMs(row.LastFailingDrill),
            };
        }

        // The reason of each runbook's latest failing drill, which the stale reason quotes.
        var failures = await connection.QueryAsync<FreshnessFailureRow>(new CommandDefinition(
            """
            SELECT r.runbook AS Runbook, r.id AS Id, r.error AS Error, r.finished_at AS FinishedAt
            FROM runbook_runs r
            JOIN (SELECT runbook, MAX(finished_at) AS latest FROM runbook_runs
                  WHERE trigger_kind = 'Drill' AND status IN ('Failed', 'TimedOut') AND (@runbook IS NULL OR runbook = @runbook)
                  GROUP BY runbook) m ON m.runbook = r.runbook AND m.latest = r.finished_at
            WHERE r.trigger_kind = 'Drill' AND r.status IN ('Failed', 'TimedOut')
            ORDER BY r.id
            """,
            new { runbook }, cancellationToken: cancellationToken));
        foreach (var row in failures)
        {
            facts[row.Runbook] = For(row.Runbook) with { LastFailingDrillRunId = row.Id, LastFailingDrillError = row.Error };
        }

        var alerts = await connection.QueryAsync<FreshnessTimeRow>(new CommandDefinition(
            """
            SELECT d.runbook AS Runbook, MAX(a.received_at) AS At
            FROM runbook_alert_decisions d JOIN runbook_alerts a ON a.id = d.alert_id
            WHERE (@runbook IS NULL OR d.runbook = @runbook)
            GROUP BY d.runbook
            """,
            new { runbook }, cancellationToken: cancellationToken));
        foreach (var row in alerts)
        {
            facts[row.Runbook] = For(row.Runbook) with { LastAlertAt = FromMs(row.At) };
        }

        var versions = await connection.QueryAsync<FreshnessTimeRow>(new CommandDefinition(
            "SELECT runbook AS Runbook, MIN(first_seen_at) AS At FROM runbook_versions WHERE (@runbook IS NULL OR runbook = @runbook) GROUP BY runbook",
            new { runbook }, cancellationToken: cancellationToken));
        foreach (var row in versions)
        {
            facts[row.Runbook] = For(row.Runbook) with { FirstSeenAt = FromMs(row.At) };
        }

        return [.. facts.Values.OrderBy(f => f.Runbook, StringComparer.Ordinal)];
    }

    // Dapper fills these by column alias.
    private sealed class FreshnessRunRow
    {
        public string Runbook { get; set; } = "";

        public long? LastSuccess { get; set; }

        public long? LastPassingDrill { get; set; }

        public long? LastFailingDrill { get; set; }
    }

    private sealed class FreshnessFailureRow
    {
        public string Runbook { get; set; } = "";

        public string Id { get; set; } = "";

        public string? Error { get; set; }

        public long? FinishedAt { get; set; }
    }

    private sealed class FreshnessTimeRow
    {
        public string Runbook { get; set; } = "";

        public long? At { get; set; }
    }
}
