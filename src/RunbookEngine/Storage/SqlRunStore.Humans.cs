using Dapper;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Storage;

public sealed partial class SqlRunStore
{
    /// <inheritdoc />
    public async Task<HumanAnswerResult> AnswerHumanStepAsync(string runId, int sequence, HumanResponse answer, string? reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var now = Now();

        // The status check makes the first answer the only one: two people answering at once cannot both win.
        var changed = await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_steps
            SET status = @status, finished_at = @now, actor = @actor, comment = @comment, error = @error,
                picked_up_at = COALESCE(picked_up_at, @pickedUpAt)
            WHERE run_id = @runId AND sequence = @sequence AND status = 'WaitingForHuman' AND kind IN ('Manual', 'Approval')
            """,
            new
            {
                runId,
                sequence,
                status = (answer.Approved ? StepStatus.Succeeded : StepStatus.Failed).ToString(),
                now,
                actor = answer.Actor,
                comment = answer.Comment,
                error = reason,
                pickedUpAt = answer.PickedUpAt?.ToUnixTimeMilliseconds(),
            },
            transaction,
            cancellationToken: cancellationToken));
        if (changed == 1)
        {
            // Running too: the run may still be on its way to resting when the answer comes; it then sees wake_at set
            // as it rests and goes on at once.
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE runbook_runs SET wake_at = @now WHERE id = @runId AND status IN ('Running', 'WaitingForHuman')",
                new { runId, now }, transaction, cancellationToken: cancellationToken));
        }

        var row = await connection.QuerySingleOrDefaultAsync<StepRow>(new CommandDefinition(
            $"SELECT {StepColumns} FROM runbook_steps WHERE run_id = @runId AND sequence = @sequence",
            new { runId, sequence }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return new HumanAnswerResult(row?.ToOutcome(), changed == 1);
    }

    /// <inheritdoc />
    public async Task<StepOutcome?> PickUpHumanStepAsync(string runId, int sequence, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_steps SET picked_up_at = @now, actor = @actor
            WHERE run_id = @runId AND sequence = @sequence AND status = 'WaitingForHuman' AND picked_up_at IS NULL
            """,
            new { runId, sequence, actor, now = Now() }, cancellationToken: cancellationToken));
        return await FindStepAsync(runId, sequence, cancellationToken);
    }

    /// <inheritdoc />
    public Task<DateTimeOffset?> RestForHumanAsync(string runId, DateTimeOffset? dueAt, CancellationToken cancellationToken) =>
        RestForHumanAsync(runId, dueAt, null, cancellationToken);

    /// <inheritdoc />
    public async Task<DateTimeOffset?> RestForHumanAsync(string runId, DateTimeOffset? dueAt, string? claim, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // An answer that came while the run was still running has set wake_at already; it wins over the deadline.
        var rested = await connection.QuerySingleOrDefaultAsync<RestedRow>(new CommandDefinition(
            """
            UPDATE runbook_runs SET status = 'WaitingForHuman', error = NULL, wake_at = COALESCE(wake_at, @dueAt)
            WHERE id = @runId AND status = 'Running' AND (@claim IS NULL OR execution = @claim)
            RETURNING id AS Id, wake_at AS WakeAt
            """,
            new { runId, dueAt = dueAt?.ToUnixTimeMilliseconds(), claim }, transaction, cancellationToken: cancellationToken));
        if (rested is not null)
        {
            await AddRunNotificationAsync(connection, transaction, runId, RunStatus.WaitingForHuman, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return FromMs(rested?.WakeAt);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<string>> RunsToWakeAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var ids = await connection.QueryAsync<string>(new CommandDefinition(
            "SELECT id FROM runbook_runs WHERE status = 'WaitingForHuman' AND wake_at <= @now ORDER BY wake_at LIMIT @limit",
            new { now = now.ToUnixTimeMilliseconds(), limit }, cancellationToken: cancellationToken));
        return [.. ids];
    }

    private sealed class RestedRow
    {
        public string Id { get; set; } = "";

        public long? WakeAt { get; set; }
    }
}
