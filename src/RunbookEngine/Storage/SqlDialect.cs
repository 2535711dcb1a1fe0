using System.Data.Common;

namespace RunbookEngine.Storage;

/// <summary>What differs between the databases behind <see cref="SqlRunStore"/>: connections and the migration lock.</summary>
internal abstract class SqlDialect
{
    /// <summary>For messages: "PostgreSQL" or "SQLite".</summary>
    public abstract string Name { get; }

    /// <summary>An open connection.</summary>
    public abstract Task<DbConnection> OpenAsync(CancellationToken cancellationToken);

    /// <summary>Keeps two nodes starting together from migrating at once; held until the transaction ends.</summary>
    public abstract Task LockForMigrationAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken);

    /// <summary>
    /// Indexes only this database can build, tried after the shared migration steps; one that fails (an extension
    /// the server lacks or may not create) is skipped, and what it would speed up still works, only slower.
    /// </summary>
    public virtual IReadOnlyList<string> OptionalIndexes => [];

    /// <summary>Closes the idle connections of the pool, if the dialect keeps one that can outlive its server.</summary>
    public virtual void DropIdleConnections()
    {
    }

    /// <summary>Serialises claims on one concurrency key across nodes; held until the transaction ends.</summary>
    public abstract Task LockKeyAsync(DbConnection connection, DbTransaction transaction, string key, CancellationToken cancellationToken);

    /// <summary>
    /// Holds the run for this execution for as long as the returned handle lives, so that another node can tell a live
    /// execution from a dead one; null when a live session elsewhere holds it. The default holds nothing: liveness is
    /// the claim's heartbeat alone.
    /// </summary>
    public virtual Task<IAsyncDisposable?> HoldRunAsync(string runId, CancellationToken cancellationToken) =>
        Task.FromResult<IAsyncDisposable?>(NoHold.Instance);

    private sealed class NoHold : IAsyncDisposable
    {
        public static readonly NoHold Instance = new();

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
