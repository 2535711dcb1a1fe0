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
}
