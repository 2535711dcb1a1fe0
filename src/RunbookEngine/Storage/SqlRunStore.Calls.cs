using Dapper;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore
{
    /// <inheritdoc />
    public async Task<bool> SaveCallsAsync(string runId, IReadOnlyList<RecordedCall> calls, string? claim, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(calls);
        if (calls.Count == 0)
        {
            return true;
        }

        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Numbered after the run's calls so far: a run resumed after a person answered keeps its attempt number, so
        // the attempt alone would not order the calls of its two executions.
        var last = await connection.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT MAX(sequence) FROM runbook_run_calls WHERE run_id = @runId", new { runId }, transaction, cancellationToken: cancellationToken)) ?? 0;
        // Fenced as a journaled step is: an execution that lost the run (taken for dead, taken over) must not add its
        // calls to those of the execution that now runs it.
        var written = await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_run_calls (run_id, attempt, sequence, step_sequence, kind, request, status, output, error_output, duration_ms, recorded_at)
            SELECT @RunId, @Attempt, @Sequence, @StepSequence, @Kind, @Request, @Status, @Output, @ErrorOutput, @DurationMs, @RecordedAt
            WHERE @Claim IS NULL OR EXISTS (SELECT 1 FROM runbook_runs WHERE id = @RunId AND execution = @Claim)
            """,
            calls.Select((call, i) => new
            {
                RunId = runId,
                Claim = claim,
                call.Attempt,
                Sequence = last + i + 1,
                call.StepSequence,
                call.Kind,
                call.Request,
                call.Status,
                call.Output,
                call.ErrorOutput,
                DurationMs = (long)call.Duration.TotalMilliseconds,
                RecordedAt = call.RecordedAt.ToUnixTimeMilliseconds(),
            }),
            transaction,
            cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return written > 0;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<RecordedCall>> GetCallsAsync(string runId, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<CallRow>(new CommandDefinition(
            """
            SELECT attempt AS Attempt, sequence AS Sequence, step_sequence AS StepSequence, kind AS Kind, request AS Request, status AS Status,
                   output AS Output, error_output AS ErrorOutput, duration_ms AS DurationMs, recorded_at AS RecordedAt
            FROM runbook_run_calls WHERE run_id = @runId ORDER BY sequence
            """,
            new { runId },
            cancellationToken: cancellationToken));
        return [.. rows.Select(row => row.ToCall())];
    }

    // Settable properties, not a constructor: Dapper converts each column (INTEGER is long on SQLite, int on PostgreSQL).
    private sealed class CallRow
    {
        public long Attempt { get; set; }

        public long Sequence { get; set; }

        public long StepSequence { get; set; }

        public string Kind { get; set; } = "";

        public string Request { get; set; } = "";

        public long Status { get; set; }

        public string Output { get; set; } = "";

        public string? ErrorOutput { get; set; }

        public long DurationMs { get; set; }

        public long RecordedAt { get; set; }

        public RecordedCall ToCall() => new(
            (int)Attempt, (int)Sequence, (int)StepSequence, Kind, Request, (int)Status, Output, ErrorOutput,
            TimeSpan.FromMilliseconds(DurationMs), DateTimeOffset.FromUnixTimeMilliseconds(RecordedAt));
    }
}
