using System.Text.Json;
using Dapper;
using RunbookEngine.Runs;
using RunbookEngine.Sdk;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore : ITrustStore
{
    private static readonly JsonSerializerOptions ProposalJson = new(JsonSerializerDefaults.Web);

    // The journal name of the approval confirm mode asks for (RunbookContext: "Approve: " + "confirm mode: " + question).
    private const string ConfirmApproval = "Approve: confirm mode:%";

    // A person's refusal: the step failed with someone's name on it, not the machine's (which marks skips and closes).
    private static string Refused(string step) => $"{step}.status = 'Failed' AND {step}.actor <> '' AND {step}.actor <> 'runbook'";

    /// <inheritdoc />
    public async Task<bool> RecordVerdictAsync(string id, RunVerdict verdict, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(verdict);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_runs SET verdict = @verdict, verdict_by = @by, verdict_comment = @comment, verdict_at = @at
            WHERE id = @id AND status = 'Proposed'
            """,
            new { id, verdict = verdict.Right ? "right" : "wrong", by = verdict.By, comment = verdict.Comment, at = verdict.At.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
        return changed == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TrustCounts>> TrustCountsAsync(string? runbook, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // Two statements rather than "@runbook IS NULL OR ...": a prepared statement's generic plan would not use the
        // runbook index for one runbook's record.
        var only = runbook is null ? "" : "AND r.runbook = @runbook";

        // "Since the last disagreement" is counted by run order (queued_at): a later run that proposed the right thing
        // is what shows the runbook has mended, whenever the verdicts were given.
        var shadow = await connection.QueryAsync<(string Runbook, long Proposals, long Agreed, long Disagreed, long Awaiting, long Streak)>(new CommandDefinition(
            $"""
            SELECT r.runbook, COUNT(*),
                   SUM(CASE WHEN r.verdict = 'right' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN r.verdict = 'wrong' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN r.verdict IS NULL THEN 1 ELSE 0 END),
                   SUM(CASE WHEN r.verdict = 'right' AND r.queued_at > COALESCE(
                       (SELECT MAX(w.queued_at) FROM runbook_runs w
                        WHERE w.runbook = r.runbook AND w.proposal IS NOT NULL AND w.status = 'Proposed' AND w.trigger_kind <> 'Drill' AND w.verdict = 'wrong'), -1)
                       THEN 1 ELSE 0 END)
            FROM runbook_runs r
            WHERE r.proposal IS NOT NULL AND r.status = 'Proposed' AND r.trigger_kind <> 'Drill' {only}
            GROUP BY r.runbook
            """,
            new { runbook }, cancellationToken: cancellationToken));
        var confirm = await connection.QueryAsync<(string Runbook, long Approved, long Rejected, long Waiting, long Streak)>(new CommandDefinition(
            $"""
            SELECT r.runbook,
                   SUM(CASE WHEN s.status = 'Succeeded' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN {Refused("s")} THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status = 'WaitingForHuman' THEN 1 ELSE 0 END),
                   SUM(CASE WHEN s.status = 'Succeeded' AND r.queued_at > COALESCE(
                       (SELECT MAX(x.queued_at) FROM runbook_steps t JOIN runbook_runs x ON x.id = t.run_id
                        WHERE x.runbook = r.runbook AND x.mode = 'confirm' AND x.trigger_kind <> 'Drill' AND t.kind = 'Approval'
                          AND t.name LIKE '{ConfirmApproval}' AND {Refused("t")}), -1)
                       THEN 1 ELSE 0 END)
            FROM runbook_steps s JOIN runbook_runs r ON r.id = s.run_id
            WHERE r.mode = 'confirm' AND r.trigger_kind <> 'Drill' AND s.kind = 'Approval' AND s.name LIKE '{ConfirmApproval}'
              {only}
            GROUP BY r.runbook
            """,
            new { runbook }, cancellationToken: cancellationToken));

        var byRunbook = new SortedDictionary<string, TrustCounts>(StringComparer.Ordinal);
        foreach (var row in shadow)
        {
            byRunbook[row.Runbook] = TrustCounts.None(row.Runbook) with
            {
                Proposals = row.Proposals, Agreed = row.Agreed, Disagreed = row.Disagreed, AwaitingVerdict = row.Awaiting, AgreedSinceDisagreed = row.Streak,
            };
        }

        foreach (var row in confirm)
        {
            byRunbook[row.Runbook] = byRunbook.GetValueOrDefault(row.Runbook, TrustCounts.None(row.Runbook)) with
            {
                Approved = row.Approved, Rejected = row.Rejected, Waiting = row.Waiting, ApprovedSinceRejected = row.Streak,
            };
        }

        return [.. byRunbook.Values];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunRecord>> LatestProposalsAsync(string runbook, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<RunRow>(new CommandDefinition(
            $"""
            SELECT {RunColumns} FROM runbook_runs
            WHERE runbook = @runbook AND proposal IS NOT NULL AND status = 'Proposed' AND trigger_kind <> 'Drill'
            ORDER BY queued_at DESC, id DESC
            LIMIT @limit
            """,
            new { runbook, limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

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
