using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage.Postgres;
using RunbookEngine.Storage.Sqlite;

namespace RunbookEngine.Storage;

/// <summary>The run store over plain SQL that PostgreSQL and SQLite both accept; <see cref="SqlDialect"/> holds the rest.</summary>
public sealed partial class SqlRunStore : IRunStore, IAlertStore, IAsyncDisposable
{
    private const string RunColumns = """
        id AS Id, runbook AS Runbook, commit_sha AS CommitSha, content_hash AS ContentHash, trigger_kind AS TriggerKind,
        triggered_by AS TriggeredBy, parameters AS Parameters, status AS Status, attempt AS Attempt, node AS Node,
        concurrency_key AS ConcurrencyKey, queued_at AS QueuedAt, started_at AS StartedAt, finished_at AS FinishedAt,
        error AS Error, retry_of AS RetryOf, alert_id AS AlertId, target AS Target, manual_minutes AS ManualMinutes,
        trace_parent AS TraceParent, sealed_parameters AS SealedParameters
        """;

    private const string StepColumns = """
        sequence AS Sequence, name AS Name, kind AS Kind, status AS Status, started_at AS StartedAt, finished_at AS FinishedAt,
        attempts AS Attempts, output AS Output, error AS Error, actor AS Actor, result_json AS ResultJson, idempotent AS Idempotent,
        picked_up_at AS PickedUpAt, manual_minutes AS ManualMinutes, comment AS Comment, role AS Role,
        different_person AS DifferentPerson, due_at AS DueAt
        """;

    private readonly SqlDialect _dialect;
    private readonly TimeProvider _time;
    private readonly IAsyncDisposable? _owned;

    private SqlRunStore(SqlDialect dialect, TimeProvider time, IAsyncDisposable? owned)
    {
        _dialect = dialect;
        _time = time;
        _owned = owned;
    }

    /// <summary>A store in a SQLite file (created if missing, with its folder).</summary>
    /// <param name="path">The database file.</param>
    /// <param name="time">The clock.</param>
    /// <returns>The store; call <see cref="MigrateAsync"/> before use.</returns>
    public static SqlRunStore Sqlite(string path, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(path);
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var connectionString = new SqliteConnectionStringBuilder { DataSource = path, Pooling = true }.ToString();
        return new SqlRunStore(new SqliteDialect(connectionString), time, null);
    }

    /// <summary>A store in PostgreSQL.</summary>
    /// <param name="connectionString">An Npgsql connection string.</param>
    /// <param name="time">The clock.</param>
    /// <returns>The store; call <see cref="MigrateAsync"/> before use.</returns>
    public static SqlRunStore Postgres(string connectionString, TimeProvider time)
    {
        var dataSource = NpgsqlDataSource.Create(connectionString);
        return new SqlRunStore(new PostgresDialect(dataSource), time, dataSource);
    }

    /// <inheritdoc />
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await _dialect.LockForMigrationAsync(connection, transaction, cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "CREATE TABLE IF NOT EXISTS runbook_schema (version INTEGER NOT NULL, applied_at BIGINT NOT NULL)", transaction: transaction, cancellationToken: cancellationToken));
        var current = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MAX(version) FROM runbook_schema", transaction: transaction, cancellationToken: cancellationToken)) ?? 0;
        if (current > Migrations.Latest)
        {
            throw new SchemaTooNewException((int)current, Migrations.Latest);
        }

        for (var version = (int)current + 1; version <= Migrations.Latest; version++)
        {
            await connection.ExecuteAsync(new CommandDefinition(Migrations.Steps[version - 1], transaction: transaction, cancellationToken: cancellationToken));
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO runbook_schema (version, applied_at) VALUES (@version, @now)",
                new { version, now = Now() }, transaction, cancellationToken: cancellationToken));
        }

        foreach (var statement in _dialect.OptionalIndexes)
        {
            // A savepoint each, so one that fails leaves the migration (and the rest) standing.
            await connection.ExecuteAsync(new CommandDefinition("SAVEPOINT optional_index", transaction: transaction, cancellationToken: cancellationToken));
            try
            {
                await connection.ExecuteAsync(new CommandDefinition(statement, transaction: transaction, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition("RELEASE SAVEPOINT optional_index", transaction: transaction, cancellationToken: cancellationToken));
            }
            catch (DbException)
            {
                await connection.ExecuteAsync(new CommandDefinition("ROLLBACK TO SAVEPOINT optional_index", transaction: transaction, cancellationToken: cancellationToken));
                break;
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <inheritdoc />
    public async Task<RunRecord> CreateRunAsync(NewRun run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        // Version 7 ids start with their creation time, so they sort roughly by age and index well.
        var record = new RunRecord(Guid.CreateVersion7(_time.GetUtcNow()).ToString("N"), run.Runbook, run.Commit, run.ContentHash, run.Trigger, run.TriggeredBy,
            run.ParametersJson, RunStatus.Queued, 0, null, run.ConcurrencyKey, FromMs(Now()), null, null, null, run.RetryOf, run.AlertId, run.Target,
            run.ManualMinutes, run.TraceParent, run.SealedParameters);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_runs (id, runbook, commit_sha, content_hash, trigger_kind, triggered_by, parameters, status, attempt,
                                      node, concurrency_key, queued_at, started_at, finished_at, error, retry_of, alert_id, target, manual_minutes, trace_parent, sealed_parameters)
            VALUES (@Id, @Runbook, @Commit, @ContentHash, @Trigger, @TriggeredBy, @ParametersJson, @Status, 0,
                    NULL, @ConcurrencyKey, @QueuedAt, NULL, NULL, NULL, @RetryOf, @AlertId, @Target, @ManualMinutes, @TraceParent, @SealedParameters)
            """,
            new
            {
                record.Id,
                record.Runbook,
                record.Commit,
                record.ContentHash,
                Trigger = record.Trigger.ToString(),
                record.TriggeredBy,
                record.ParametersJson,
                Status = record.Status.ToString(),
                record.ConcurrencyKey,
                QueuedAt = record.QueuedAt.ToUnixTimeMilliseconds(),
                record.RetryOf,
                record.AlertId,
                record.Target,
                record.ManualMinutes,
                record.TraceParent,
                record.SealedParameters,
            },
            cancellationToken: cancellationToken));
        return record;
    }

    /// <inheritdoc />
    public async Task<RunRecord?> GetRunAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<RunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runbook_runs WHERE id = @id", new { id }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, 500);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        long? cursorTime = null;
        if (query.Before is not null)
        {
            cursorTime = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
                "SELECT queued_at FROM runbook_runs WHERE id = @id", new { id = query.Before }, cancellationToken: cancellationToken));
            if (cursorTime is null)
            {
                return [];
            }
        }

        // Only the filters given become SQL, so each query can use the index that fits it (runbook, status, time).
        var where = new List<string>();
        void Filter(object? value, string condition)
        {
            if (value is not null)
            {
                where.Add(condition);
            }
        }

        Filter(query.Runbook, "runbook = @runbook");
        Filter(query.Status, "status = @status");
        Filter(query.Trigger, "trigger_kind = @trigger");
        Filter(query.AlertId, "alert_id = @alertId");
        Filter(query.RetryOf, "retry_of = @retryOf");
        Filter(query.Target, @"LOWER(target) LIKE @target ESCAPE '\'");
        Filter(query.Since, "queued_at >= @since");
        Filter(query.Until, "queued_at < @until");
        // The first conjunct is what lets the index on queued_at seek to the cursor, so a deep page costs what the first does.
        Filter(cursorTime, "queued_at <= @cursorTime AND (queued_at < @cursorTime OR (queued_at = @cursorTime AND id < @cursorId))");
        Filter(query.Text, TextSearch);
        var sql = $"""
            SELECT {RunColumns} FROM runbook_runs
            {(where.Count == 0 ? "" : "WHERE " + string.Join(" AND ", where))}
            ORDER BY queued_at DESC, id DESC
            LIMIT @limit
            """;
        var rows = await connection.QueryAsync<RunRow>(new CommandDefinition(
            sql,
            new
            {
                runbook = query.Runbook,
                status = query.Status?.ToString(),
                trigger = query.Trigger?.ToString(),
                alertId = query.AlertId,
                retryOf = query.RetryOf,
                target = Like(query.Target),
                since = query.Since?.ToUnixTimeMilliseconds(),
                until = query.Until?.ToUnixTimeMilliseconds(),
                text = Like(query.Text),
                cursorTime,
                cursorId = query.Before,
                limit,
            },
            cancellationToken: cancellationToken));
        return [.. rows.Select(row => row.ToRecord())];
    }

    /// <inheritdoc />
    public Task<StartResult> StartRunAsync(string id, string node, bool recovering, CancellationToken cancellationToken) =>
        StartRunAsync(id, node, new RunExecution(null, recovering, null), cancellationToken);

    /// <inheritdoc />
    public async Task<StartResult> StartRunAsync(string id, string node, RunExecution execution, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(execution);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var run = await connection.QuerySingleOrDefaultAsync<RunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runbook_runs WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        if (run is null)
        {
            return new StartResult(null, null);
        }

        if (run.ConcurrencyKey is { } key)
        {
            await _dialect.LockKeyAsync(connection, transaction, key, cancellationToken);
            var holder = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                """
                SELECT id FROM runbook_runs
                WHERE concurrency_key = @key AND id <> @id
                  AND (status IN ('Running', 'WaitingForHuman') OR (status = 'Queued' AND (queued_at < @queuedAt OR (queued_at = @queuedAt AND id < @id))))
                ORDER BY queued_at, id
                LIMIT 1
                """,
                new { key, id, queuedAt = run.QueuedAt }, transaction, cancellationToken: cancellationToken));
            if (holder is not null)
            {
                return new StartResult(null, holder);
            }
        }

        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_runs
            SET status = 'Running', node = @node, started_at = COALESCE(started_at, @now), wake_at = NULL, execution = @trigger,
                attempt = attempt + CASE WHEN status = 'WaitingForHuman' THEN 0 ELSE 1 END
            WHERE id = @id
              AND (status = 'Queued'
                   OR (@recovering = 1 AND status = 'Running' AND (@anyExecution = 1 OR execution IS NULL OR execution = @recovers))
                   OR (status = 'WaitingForHuman' AND wake_at IS NOT NULL AND wake_at <= @now))
            """,
            new
            {
                id,
                node,
                now = Now(),
                trigger = execution.Trigger,
                recovering = execution.Recovering ? 1 : 0,
                anyExecution = execution.Recovers is null ? 1 : 0,
                recovers = execution.Recovers ?? "",
            },
            transaction,
            cancellationToken: cancellationToken));
        // Read in the same transaction: a read after the commit could fail (the store going away in between) and leave
        // the run Running with nobody running it, while a failure before the commit leaves it Queued for the sweeper.
        var started = changed == 0 ? null : await connection.QuerySingleAsync<RunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runbook_runs WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new StartResult(started?.ToRecord(), null);
    }

    /// <inheritdoc />
    public async Task<string?> ActiveRunForKeyAsync(string concurrencyKey, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT id FROM runbook_runs WHERE concurrency_key = @key AND status IN ('Queued', 'Running', 'WaitingForHuman') ORDER BY queued_at LIMIT 1",
            new { key = concurrencyKey }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<bool> FinishRunAsync(string id, RunStatus status, string? reason, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var terminal = status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled or RunStatus.TimedOut;
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_runs SET status = @status, error = @error, finished_at = @finishedAt
            WHERE id = @id AND status NOT IN ('Succeeded', 'Failed', 'Cancelled', 'TimedOut')
            """,
            new { id, status = status.ToString(), error = reason, finishedAt = terminal ? Now() : (long?)null },
            cancellationToken: cancellationToken));
        if (changed == 1 && terminal)
        {
            // A question nobody will answer any more must not stay open in the journal (or on a person's list).
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE runbook_steps SET status = 'Cancelled', finished_at = @now, error = @error
                WHERE run_id = @id AND status = 'WaitingForHuman'
                """,
                new { id, now = Now(), error = $"the run ended {status} while this step waited for a person" },
                cancellationToken: cancellationToken));
        }

        return changed == 1;
    }

    /// <inheritdoc />
    public async Task<bool> RequeueRunAsync(string id, string reason, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runbook_runs SET status = 'Queued', error = @reason WHERE id = @id AND status = 'Running'",
            new { id, reason }, cancellationToken: cancellationToken));
        return changed == 1;
    }

    /// <inheritdoc />
    public async Task SaveStepAsync(string runId, StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var step = outcome;
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_steps (run_id, sequence, name, kind, status, started_at, finished_at, attempts, output, error, actor,
                                       result_json, idempotent, picked_up_at, manual_minutes, comment, role, different_person, due_at)
            VALUES (@runId, @Sequence, @Name, @Kind, @Status, @StartedAt, @FinishedAt, @Attempts, @Output, @Error, @Actor,
                    @ResultJson, @Idempotent, @PickedUpAt, @ManualMinutes, @Comment, @Role, @DifferentPerson, @DueAt)
            ON CONFLICT (run_id, sequence) DO UPDATE SET
                name = excluded.name, kind = excluded.kind, status = excluded.status, started_at = excluded.started_at,
                finished_at = excluded.finished_at, attempts = excluded.attempts, output = excluded.output, error = excluded.error,
                actor = excluded.actor, result_json = excluded.result_json, idempotent = excluded.idempotent,
                picked_up_at = excluded.picked_up_at, manual_minutes = excluded.manual_minutes, comment = excluded.comment,
                role = excluded.role, different_person = excluded.different_person, due_at = excluded.due_at
            """,
            new
            {
                runId,
                step.Sequence,
                step.Name,
                Kind = step.Kind.ToString(),
                Status = step.Status.ToString(),
                StartedAt = step.StartedAt.ToUnixTimeMilliseconds(),
                FinishedAt = step.FinishedAt?.ToUnixTimeMilliseconds(),
                step.Attempts,
                step.Output,
                step.Error,
                step.Actor,
                step.ResultJson,
                Idempotent = step.Idempotent ? 1 : 0,
                PickedUpAt = step.PickedUpAt?.ToUnixTimeMilliseconds(),
                step.ManualMinutes,
                step.Comment,
                step.Role,
                DifferentPerson = step.DifferentPerson ? 1 : 0,
                DueAt = step.DueAt?.ToUnixTimeMilliseconds(),
            },
            cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<StepOutcome?> FindStepAsync(string runId, int sequence, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<StepRow>(new CommandDefinition(
            $"SELECT {StepColumns} FROM runbook_steps WHERE run_id = @runId AND sequence = @sequence", new { runId, sequence }, cancellationToken: cancellationToken));
        return row?.ToOutcome();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<StepOutcome>> GetStepsAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<StepRow>(new CommandDefinition(
            $"SELECT {StepColumns} FROM runbook_steps WHERE run_id = @runId ORDER BY sequence", new { runId }, cancellationToken: cancellationToken));
        return [.. rows.Select(row => row.ToOutcome())];
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> QueuedRunIdsAsync(DateTimeOffset queuedBefore, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM runbook_runs WHERE status = 'Queued' AND queued_at < @before ORDER BY queued_at LIMIT @limit",
            new { before = queuedBefore.ToUnixTimeMilliseconds(), limit }, cancellationToken: cancellationToken));
        return [.. ids];
    }

    /// <summary>Closes the pool's idle connections, which a database that restarted has already closed at its end.</summary>
    public void DropIdleConnections() => _dialect.DropIdleConnections();

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;

    private long Now() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>
    /// What free-text search looks in: one expression over the run's columns, so one (trigram) index can serve it.
    /// The separator keeps a search from matching across the end of one column and the start of the next.
    /// </summary>
    internal const string SearchExpression =
        "(LOWER(id || ' | ' || runbook || ' | ' || triggered_by || ' | ' || COALESCE(target, '') || ' | ' || parameters || ' | ' || COALESCE(error, '')))";

    private const string TextSearch = SearchExpression + @" LIKE @text ESCAPE '\'";

    /// <summary>A case-insensitive contains pattern; the user's % and _ match themselves.</summary>
    private static string? Like(string? text) =>
        text is null ? null : "%" + text.ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%";

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static DateTimeOffset? FromMs(long? ms) => ms is { } value ? DateTimeOffset.FromUnixTimeMilliseconds(value) : null;

    // Dapper fills these by column alias; numbers arrive as long from SQLite and int or long from PostgreSQL.
    private sealed class RunRow
    {
        public string Id { get; set; } = "";
        public string Runbook { get; set; } = "";
        public string? CommitSha { get; set; }
        public string ContentHash { get; set; } = "";
        public string TriggerKind { get; set; } = "";
        public string TriggeredBy { get; set; } = "";
        public string Parameters { get; set; } = "{}";
        public string Status { get; set; } = "";
        public long Attempt { get; set; }
        public string? Node { get; set; }
        public string? ConcurrencyKey { get; set; }
        public long QueuedAt { get; set; }
        public long? StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public string? Error { get; set; }
        public string? RetryOf { get; set; }

        public string? AlertId { get; set; }

        public string? Target { get; set; }

        public double? ManualMinutes { get; set; }

        public string? TraceParent { get; set; }

        public string? SealedParameters { get; set; }

        public RunRecord ToRecord() => new(Id, Runbook, CommitSha, ContentHash, Enum.Parse<RunTrigger>(TriggerKind), TriggeredBy, Parameters,
            Enum.Parse<RunStatus>(Status), (int)Attempt, Node, ConcurrencyKey, FromMs(QueuedAt), FromMs(StartedAt), FromMs(FinishedAt), Error, RetryOf, AlertId, Target,
            ManualMinutes, TraceParent, SealedParameters);
    }

    private sealed class StepRow
    {
        public string RunId { get; set; } = "";
        public long Sequence { get; set; }
        public string Name { get; set; } = "";
        public string Kind { get; set; } = "";
        public string Status { get; set; } = "";
        public long StartedAt { get; set; }
        public long? FinishedAt { get; set; }
        public long Attempts { get; set; }
        public string Output { get; set; } = "";
        public string? Error { get; set; }
        public string Actor { get; set; } = "";
        public string? ResultJson { get; set; }
        public long Idempotent { get; set; }
        public long? PickedUpAt { get; set; }
        public double? ManualMinutes { get; set; }
        public string? Comment { get; set; }

        public string? Role { get; set; }

        public long DifferentPerson { get; set; }

        public long? DueAt { get; set; }

        public StepOutcome ToOutcome() => new((int)Sequence, Name, Enum.Parse<StepKind>(Kind), Enum.Parse<StepStatus>(Status), FromMs(StartedAt), FromMs(FinishedAt),
            (int)Attempts, Output, Error, Actor, ResultJson, Idempotent != 0, FromMs(PickedUpAt), ManualMinutes, Comment, Role, DifferentPerson != 0, FromMs(DueAt));
    }
}
