using System.Text.Json;
using Dapper;
using RunbookEngine.Catalog;

namespace RunbookEngine.Storage;

/// <summary>The version half of the store: every runbook version seen, with its source, and the cluster's commit.</summary>
public sealed partial class SqlRunStore : IVersionStore
{
    /// <summary>
    /// How long a claim on a GitHub check holds without its check being posted; after it, another node may take it over.
    /// Ten minutes: far longer than a post with its retries takes, short enough that a pull request waits only minutes.
    /// </summary>
    public static TimeSpan GitHubCheckLease { get; } = TimeSpan.FromMinutes(10);

    private const string VersionColumns = """
        runbook AS Runbook, content_hash AS ContentHash, commit_sha AS CommitSha, author AS Author, committed_at AS CommittedAt,
        message AS Message, valid AS Valid, errors AS Errors, first_seen_at AS FirstSeenAt, pull_request AS PullRequest
        """;

    /// <inheritdoc />
    public async Task<bool> RecordVersionAsync(RunbookVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_versions (runbook, content_hash, commit_sha, author, committed_at, message, valid, errors, files, first_seen_at, pull_request)
            VALUES (@Runbook, @ContentHash, @Commit, @Author, @committedAt, @Message, @valid, @errors, @files, @seen, @PullRequest)
            ON CONFLICT (runbook, content_hash) DO NOTHING
            """,
            new
            {
                version.Runbook,
                version.ContentHash,
                version.Commit,
                version.Author,
                committedAt = version.CommittedAt?.ToUnixTimeMilliseconds(),
                version.Message,
                valid = version.Valid ? 1 : 0,
                errors = JsonSerializer.Serialize(version.Errors),
                files = JsonSerializer.Serialize(version.Files),
                seen = version.FirstSeenAt.ToUnixTimeMilliseconds(),
                version.PullRequest,
            },
            cancellationToken: cancellationToken)) == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunbookVersion>> ListVersionsAsync(string runbook, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns}, '[]' AS Files FROM runbook_versions WHERE runbook = @runbook ORDER BY first_seen_at DESC, content_hash",
            new { runbook }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToVersion())];
    }

    /// <inheritdoc />
    public async Task<RunbookVersion?> GetVersionAsync(string runbook, string contentHash, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<VersionRow>(new CommandDefinition(
            $"SELECT {VersionColumns}, files AS Files FROM runbook_versions WHERE runbook = @runbook AND content_hash = @contentHash",
            new { runbook, contentHash }, cancellationToken: cancellationToken));
        return row?.ToVersion();
    }

    /// <inheritdoc />
    public async Task<string?> GetCatalogCommitAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT commit_sha FROM runbook_catalog_state WHERE id = 1", cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task SetCatalogCommitAsync(string commit, string node, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_catalog_state (id, commit_sha, node, updated_at) VALUES (1, @commit, @node, @now)
            ON CONFLICT (id) DO UPDATE SET commit_sha = excluded.commit_sha, node = excluded.node, updated_at = excluded.updated_at
            """,
            new { commit, node, now = Now() }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<bool> RememberGitHubDeliveryAsync(string deliveryId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(deliveryId);
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // The primary key decides: of two nodes handed the same delivery at once, exactly one inserts the row.
        return await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO runbook_github_deliveries (delivery_id, received_at) VALUES (@deliveryId, @now) ON CONFLICT (delivery_id) DO NOTHING",
            new { deliveryId, now = Now() }, cancellationToken: cancellationToken)) == 1;
    }

    /// <inheritdoc />
    public async Task<bool> ClaimGitHubCheckAsync(string commit, string checkName, string node, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(commit);
        ArgumentException.ThrowIfNullOrEmpty(checkName);
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // The primary key decides, as for deliveries: a lookup first would leave the window this closes. A claim is a
        // lease: one whose node died before posting (no `posted_at`) would otherwise keep the commit without its check,
        // and a required check would block the merge for good; the update's WHERE lets one taker win it, as the insert does.
        var now = Now();
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_github_checks (head_sha, check_name, node, claimed_at) VALUES (@commit, @checkName, @node, @now)
            ON CONFLICT (head_sha, check_name) DO UPDATE SET node = excluded.node, claimed_at = excluded.claimed_at
            WHERE runbook_github_checks.claimed_at < @stale AND runbook_github_checks.posted_at IS NULL
            """,
            new { commit, checkName, node, now, stale = now - (long)GitHubCheckLease.TotalMilliseconds },
            cancellationToken: cancellationToken)) == 1;
    }

    /// <inheritdoc />
    public async Task MarkGitHubCheckPostedAsync(string commit, string checkName, string node, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runbook_github_checks SET posted_at = @now WHERE head_sha = @commit AND check_name = @checkName AND node = @node",
            new { commit, checkName, node, now = Now() }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task ReleaseGitHubCheckAsync(string commit, string checkName, string node, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM runbook_github_checks WHERE head_sha = @commit AND check_name = @checkName AND node = @node",
            new { commit, checkName, node }, cancellationToken: cancellationToken));
    }

    private sealed class VersionRow
    {
        public string Runbook { get; set; } = "";
        public string ContentHash { get; set; } = "";
        public string? CommitSha { get; set; }
        public string? Author { get; set; }
        public long? CommittedAt { get; set; }
        public string? Message { get; set; }
        public long Valid { get; set; }
        public string Errors { get; set; } = "[]";
        public string Files { get; set; } = "[]";
        public long FirstSeenAt { get; set; }
        public long? PullRequest { get; set; }

        public RunbookVersion ToVersion() => new(Runbook, ContentHash, CommitSha, Author, FromMs(CommittedAt), Message, Valid != 0,
            JsonSerializer.Deserialize<List<string>>(Errors) ?? [], JsonSerializer.Deserialize<List<VersionFile>>(Files) ?? [], FromMs(FirstSeenAt))
        {
            PullRequest = PullRequest is { } number ? (int)number : null,
        };
    }
}
