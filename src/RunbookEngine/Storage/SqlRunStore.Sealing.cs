using Dapper;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore
{
    /// <summary>Runs recorded before secret parameters were sealed (schema 9), oldest id first, after <paramref name="afterId"/>.</summary>
    internal async Task<IReadOnlyList<(string Id, string Runbook, string Parameters)>> UnsealedRunsAsync(string afterId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<(string, string, string)>(new CommandDefinition(
            "SELECT id, runbook, parameters FROM runbook_runs WHERE sealed_parameters IS NULL AND id > @afterId ORDER BY id LIMIT @limit",
            new { afterId, limit }, cancellationToken: cancellationToken));
        return [.. rows];
    }

    /// <summary>Stores a legacy run's parameters sealed; a run another node sealed first is left as it is.</summary>
    internal async Task SealRunParametersAsync(string id, string parameters, string sealedParameters, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runbook_runs SET parameters = @parameters, sealed_parameters = @sealedParameters WHERE id = @id AND sealed_parameters IS NULL",
            new { id, parameters, sealedParameters }, cancellationToken: cancellationToken));
    }
}
