using Dapper;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore : IKeyRingStore
{
    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> ReadProtectionKeysAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var keys = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT xml FROM runbook_protection_keys ORDER BY created_at, name", cancellationToken: cancellationToken));
        return [.. keys];
    }

    /// <inheritdoc />
    public async Task SaveProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO runbook_protection_keys (name, xml, created_at) VALUES (@name, @xml, @now) ON CONFLICT (name) DO NOTHING",
            new { name, xml, now = Now() }, cancellationToken: cancellationToken));
    }
}
