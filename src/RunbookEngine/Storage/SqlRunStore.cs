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
        trace_parent AS TraceParent, sealed_parameters AS SealedParameters, execution AS Execution, cancel_requested AS CancelRequested, job_id AS JobId,
        mode AS Mode, proposal AS Proposal, verdict AS Verdict, verdict_by AS VerdictBy, verdict_comment AS VerdictComment, verdict_at AS VerdictAt,
        budget_gate AS BudgetGate
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

    private SqlRunStore(SqlDialect dialect, TimeProvider time, IAsyncDisposable? owned, IAsyncDisposable? ownedHolds = null)
    {
        _dialect = dialect;
        _time = time;
        _owned = owned;
        _ownedHolds = ownedHolds;
    }

    private readonly IAsyncDisposable? _ownedHolds;

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
        // The run store sends the same few statements for every run (claim, journal writes, end): prepared on each
        // pooled connection after their second use, PostgreSQL parses and plans them once. A setting in the
        // connection string wins.
        var store = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Auto Prepare", StringComparison.OrdinalIgnoreCase))
        {
            store.MaxAutoPrepare = 64;
            store.AutoPrepareMinUsages = 2;
        }

        var dataSource = NpgsqlDataSource.Create(store.ConnectionString);

        // Holds on runs in a pool of their own (one connection per running run), so they never starve the journal's
        // writes; keepalives let PostgreSQL notice within seconds a node whose host vanished without closing its socket.
        var holds = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = "runbookengine-run-holds",
            Options = "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
        };
        var holdSource = NpgsqlDataSource.Create(holds.ConnectionString);
        return new SqlRunStore(new PostgresDialect(dataSource, holdSource), time, dataSource, holdSource);
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
            run.ManualMinutes, run.TraceParent, run.SealedParameters) { BudgetGate = run.BudgetGate };
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_runs (id, runbook, commit_sha, content_hash, trigger_kind, triggered_by, parameters, status, attempt,
                                      node, concurrency_key, queued_at, started_at, finished_at, error, retry_of, alert_id, target, manual_minutes, trace_parent, sealed_parameters, budget_gate)
            VALUES (@Id, @Runbook, @Commit, @ContentHash, @Trigger, @TriggeredBy, @ParametersJson, @Status, 0,
                    NULL, @ConcurrencyKey, @QueuedAt, NULL, NULL, NULL, @RetryOf, @AlertId, @Target, @ManualMinutes, @TraceParent, @SealedParameters, @BudgetGate)
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
                BudgetGate = record.BudgetGate?.ToJson(),
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
        StartRunAsync(id, node, new RunExecution(Guid.NewGuid().ToString("N"), recovering ? ClaimTakeover.Always : ClaimTakeover.Never), cancellationToken);

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

        var now = Now();
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_runs
            SET status = 'Running', node = @node, started_at = COALESCE(started_at, @now), wake_at = NULL, execution = @claim,
                heartbeat_at = @now, dispatched_at = NULL, job_id = COALESCE(@jobId, job_id),
                attempt = attempt + CASE WHEN status = 'WaitingForHuman' THEN 0 ELSE 1 END
            WHERE id = @id
              AND (status = 'Queued'
                   OR (status = 'Running' AND (@takeover = 2 OR (@takeover = 1 AND COALESCE(heartbeat_at, 0) <= @deadBefore)))
                   OR (status = 'WaitingForHuman' AND wake_at IS NOT NULL AND wake_at <= @now))
            """,
            new
            {
                id,
                node,
                now,
                claim = execution.Claim,
                jobId = execution.JobId,
                takeover = (int)execution.Takeover,
                deadBefore = now - (long)ClaimLease.TotalMilliseconds,
            },
            transaction,
            cancellationToken: cancellationToken));
        // Read in the same transaction: a read after the commit could fail (the store going away in between) and leave
        // the run Running with nobody running it, while a failure before the commit leaves it Queued for the watchdog.
        var started = changed == 0 ? null : await connection.QuerySingleAsync<RunRow>(new CommandDefinition(
            $"SELECT {RunColumns} FROM runbook_runs WHERE id = @id", new { id }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new StartResult(started?.ToRecord(), null) { TookOver = started is not null && run.Status == nameof(RunStatus.Running) };
    }

    /// <summary>
    /// How long a claim lives without a heartbeat (nodes renew theirs every second). Past it, the claim's node is
    /// taken for dead: on SQLite that is all there is to know (one node, so a stale claim is a previous process's); on
    /// PostgreSQL the run's hold must also be free, so a node that is only stalled keeps its runs however long it stalls.
    /// </summary>
    public static readonly TimeSpan ClaimLease = TimeSpan.FromSeconds(3);

    /// <inheritdoc />
    public Task<IAsyncDisposable?> HoldRunAsync(string runId, CancellationToken cancellationToken) => _dialect.HoldRunAsync(runId, cancellationToken);

    /// <inheritdoc />
    public async Task<IReadOnlyList<ClaimState>> RenewClaimsAsync(IReadOnlyCollection<string> runIds, string node, CancellationToken cancellationToken)
    {
        if (runIds.Count == 0)
        {
            return [];
        }

        var parameters = new DynamicParameters(new { node, now = Now() });
        var list = InList("r", runIds, parameters);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            $"UPDATE runbook_runs SET heartbeat_at = @now WHERE id IN {list} AND node = @node AND status = 'Running'",
            parameters, cancellationToken: cancellationToken));
        var rows = await connection.QueryAsync<ClaimRow>(new CommandDefinition(
            $"SELECT id AS RunId, execution AS Execution, status AS Status, cancel_requested AS CancelRequested FROM runbook_runs WHERE id IN {list}",
            parameters, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new ClaimState(r.RunId, r.Execution, Enum.Parse<RunStatus>(r.Status), r.CancelRequested))];
    }

    private sealed class ClaimRow
    {
        public string RunId { get; set; } = "";

        public string? Execution { get; set; }

        public string Status { get; set; } = "";

        public string? CancelRequested { get; set; }
    }

    /// <inheritdoc />
    public async Task<bool> RequestCancelAsync(string runId, string by, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE runbook_runs SET cancel_requested = @by WHERE id = @runId AND status = 'Running'",
            new { runId, by }, cancellationToken: cancellationToken)) == 1;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<OverdueRun>> ClaimOverdueRunsAsync(DateTimeOffset now, TimeSpan bound, DateTimeOffset? queuedBefore, int limit, CancellationToken cancellationToken)
    {
        var at = now.ToUnixTimeMilliseconds();
        var due = at - (long)bound.TotalMilliseconds;
        var handedBefore = queuedBefore is { } before ? Math.Min(before.ToUnixTimeMilliseconds(), due) : -1;
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // One statement marks and returns, so two nodes' watchdogs never both re-dispatch a run in one bound: the second
        // update finds dispatched_at already recent. Only the head of each concurrency key's line counts as overdue;
        // the runs behind it are dispatched when the key comes free.
        const string Overdue = """
            COALESCE(r.dispatched_at, 0) <= @due
            AND ((r.status = 'Queued' AND r.queued_at <= @handedBefore AND COALESCE(r.wake_at, 0) <= @handedBefore AND COALESCE(r.dispatched_at, 0) <= @handedBefore
                  AND (r.concurrency_key IS NULL OR NOT EXISTS (
                      SELECT 1 FROM runbook_runs h
                      WHERE h.concurrency_key = r.concurrency_key AND h.id <> r.id
                        AND (h.status IN ('Running', 'WaitingForHuman') OR (h.status = 'Queued' AND (h.queued_at < r.queued_at OR (h.queued_at = r.queued_at AND h.id < r.id)))))))
                 OR (r.status = 'Running' AND COALESCE(r.heartbeat_at, 0) <= @dead)
                 OR (r.status = 'WaitingForHuman' AND r.wake_at <= @due))
            """;
        var rows = await connection.QueryAsync<OverdueRow>(new CommandDefinition(
            $"""
            UPDATE runbook_runs SET dispatched_at = @at
            WHERE id IN (SELECT r.id FROM runbook_runs r WHERE r.status IN ('Queued', 'Running', 'WaitingForHuman') AND {Overdue} ORDER BY r.queued_at LIMIT @limit)
              AND COALESCE(dispatched_at, 0) <= @due
            RETURNING id AS RunId, status AS Status
            """,
            new { at, due, handedBefore, dead = at - (long)ClaimLease.TotalMilliseconds, limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => new OverdueRun(r.RunId, Enum.Parse<RunStatus>(r.Status)))];
    }

    private sealed class OverdueRow
    {
        public string RunId { get; set; } = "";

        public string Status { get; set; } = "";
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
    public Task<bool> FinishRunAsync(string id, RunStatus status, string? reason, CancellationToken cancellationToken) =>
        FinishRunAsync(id, status, reason, null, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> FinishRunAsync(string id, RunStatus status, string? reason, string? claim, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var terminal = RunStatuses.IsTerminal(status);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            $"""
            UPDATE runbook_runs SET status = @status, error = @error, finished_at = @finishedAt
            WHERE id = @id AND status NOT IN {RunStatuses.TerminalSql} AND (@claim IS NULL OR execution = @claim)
            """,
            new { id, status = status.ToString(), error = reason, finishedAt = terminal ? Now() : (long?)null, claim },
            transaction, cancellationToken: cancellationToken));
        if (changed == 1)
        {
            await AddRunNotificationAsync(connection, transaction, id, status, cancellationToken);
        }

        if (changed == 1 && terminal)
        {
            // A question nobody will answer any more must not stay open in the journal (or on a person's list).
            await connection.ExecuteAsync(new CommandDefinition(
                """
                UPDATE runbook_steps SET status = 'Cancelled', finished_at = @now, error = @error
                WHERE run_id = @id AND status = 'WaitingForHuman'
                """,
                new { id, now = Now(), error = $"the run ended {status} while this step waited for a person" },
                transaction, cancellationToken: cancellationToken));
        }

        await transaction.CommitAsync(cancellationToken);
        return changed == 1;
    }

    /// <inheritdoc />
    public Task<bool> RequeueRunAsync(string id, string reason, CancellationToken cancellationToken) =>
        RequeueRunAsync(id, reason, null, null, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> RequeueRunAsync(string id, string reason, DateTimeOffset? notBefore, string? claim, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_runs SET status = 'Queued', error = @reason, wake_at = @notBefore, dispatched_at = @now
            WHERE id = @id AND status = 'Running' AND (@claim IS NULL OR execution = @claim)
            """,
            new { id, reason, notBefore = notBefore?.ToUnixTimeMilliseconds(), claim, now = Now() }, cancellationToken: cancellationToken));
        return changed == 1;
    }

    /// <inheritdoc />
    public Task SaveStepAsync(string runId, StepOutcome outcome, CancellationToken cancellationToken) =>
        SaveStepAsync(runId, outcome, null, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> SaveStepAsync(string runId, StepOutcome outcome, string? claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        var step = outcome;
        await using var connection = await _dialect.OpenAsync(cancellationToken);

        // With a claim, the write happens only while that execution still holds the run: a node that lost it (taken over
        // after it was taken for dead) cannot journal a step over the execution that now runs the run.
        return await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_steps (run_id, sequence, name, kind, status, started_at, finished_at, attempts, output, error, actor,
                                       result_json, idempotent, picked_up_at, manual_minutes, comment, role, different_person, due_at)
            SELECT @runId, @Sequence, @Name, @Kind, @Status, @StartedAt, @FinishedAt, @Attempts, @Output, @Error, @Actor,
                    @ResultJson, @Idempotent, @PickedUpAt, @ManualMinutes, @Comment, @Role, @DifferentPerson, @DueAt
            WHERE @claim IS NULL OR EXISTS (SELECT 1 FROM runbook_runs WHERE id = @runId AND execution = @claim)
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
                claim,
            },
            cancellationToken: cancellationToken)) > 0;
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

    /// <summary>Closes the pool's idle connections, which a database that restarted has already closed at its end.</summary>
    public void DropIdleConnections() => _dialect.DropIdleConnections();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_ownedHolds is not null)
        {
            await _ownedHolds.DisposeAsync();
        }

        if (_owned is not null)
        {
            await _owned.DisposeAsync();
        }
    }

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

        public string? Execution { get; set; }

        public string? CancelRequested { get; set; }

        public string? JobId { get; set; }

        public string? Mode { get; set; }

        public string? Proposal { get; set; }

        public string? Verdict { get; set; }

        public string? VerdictBy { get; set; }

        public string? VerdictComment { get; set; }

        public long? VerdictAt { get; set; }

        public string? BudgetGate { get; set; }

        public RunRecord ToRecord() => new(Id, Runbook, CommitSha, ContentHash, Enum.Parse<RunTrigger>(TriggerKind), TriggeredBy, Parameters,
            Enum.Parse<RunStatus>(Status), (int)Attempt, Node, ConcurrencyKey, FromMs(QueuedAt), FromMs(StartedAt), FromMs(FinishedAt), Error, RetryOf, AlertId, Target,
            ManualMinutes, TraceParent, SealedParameters)
        {
            Execution = Execution,
            CancelRequested = CancelRequested,
            JobId = JobId,
            Mode = Mode is null ? RunMode.Auto : Enum.Parse<RunMode>(Mode, ignoreCase: true),
            Proposal = Proposal is null ? null : System.Text.Json.JsonSerializer.Deserialize<RunProposal>(Proposal, ProposalJson),
            Verdict = Verdict is null ? null : new RunVerdict(Verdict == "right", VerdictBy ?? "", VerdictComment, FromMs(VerdictAt!.Value)),
            BudgetGate = Slos.BudgetGateDecision.FromJson(BudgetGate),
        };
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
