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
}
