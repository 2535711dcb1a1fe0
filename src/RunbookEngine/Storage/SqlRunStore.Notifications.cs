using System.Data.Common;
using Dapper;
using RunbookEngine.Notifications;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Storage;

/// <summary>The notifications outbox.</summary>
public sealed partial class SqlRunStore : INotificationStore
{
    private const string NotificationColumns = """
        id AS Id, event AS Event, run_id AS RunId, runbook AS Runbook, detail AS Detail, channel AS Channel, state AS State,
        attempts AS Attempts, next_attempt_at AS NextAttemptAt, last_error AS LastError, created_at AS CreatedAt, delivered_at AS DeliveredAt
        """;

    /// <summary>The event a run's outcome raises, or null for one nobody is told about (cancelled, proposed).</summary>
    private static string? EventOf(RunStatus status) => status switch
    {
        RunStatus.Failed => NotifyEvents.Failed,
        RunStatus.TimedOut => NotifyEvents.TimedOut,
        RunStatus.Succeeded => NotifyEvents.Succeeded,
        RunStatus.WaitingForHuman => NotifyEvents.Waiting,
        _ => null,
    };

    /// <summary>Writes a run's event row inside the transaction that records its outcome.</summary>
    private async Task AddRunNotificationAsync(DbConnection connection, DbTransaction transaction, string runId, RunStatus status, CancellationToken cancellationToken)
    {
        if (EventOf(status) is not { } notifyEvent)
        {
            return;
        }

        var now = Now();
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_notifications (id, event, run_id, runbook, detail, channel, state, attempts, next_attempt_at, created_at)
            SELECT @id, @notifyEvent, id, runbook, error, NULL, 'Routing', 0, @now, @now FROM runbook_runs WHERE id = @runId
            """,
            new { id = NewId(), notifyEvent, runId, now }, transaction, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task AddNotificationAsync(string notifyEvent, string? runbook, string? detail, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await AddNotificationAsync(connection, null, notifyEvent, runbook, detail, cancellationToken);
    }

    private async Task AddNotificationAsync(DbConnection connection, DbTransaction? transaction, string notifyEvent, string? runbook, string? detail, CancellationToken cancellationToken)
    {
        var now = Now();
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_notifications (id, event, run_id, runbook, detail, channel, state, attempts, next_attempt_at, created_at)
            VALUES (@id, @notifyEvent, NULL, @runbook, @detail, NULL, 'Routing', 0, @now, @now)
            """,
            new { id = NewId(), notifyEvent, runbook, detail, now }, transaction, cancellationToken: cancellationToken));
    }

    // The key that serialises claims across nodes (PostgreSQL; SQLite writes one at a time anyway).
    private const string ClaimLockKey = "runbook-notifications-claim";

    /// <inheritdoc />
    public Task<NotificationRecord?> ClaimNotificationAsync(string node, TimeSpan lease, CancellationToken cancellationToken) =>
        ClaimNotificationAsync(node, lease, NotificationLane.Any, cancellationToken);

    /// <inheritdoc />
    public async Task<NotificationRecord?> ClaimNotificationAsync(string node, TimeSpan lease, NotificationLane lane, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lane);
        var now = Now();
        var parameters = new DynamicParameters(new { node, until = now + (long)lease.TotalMilliseconds, now, channel = lane.Channel });

        // The channels are parameters one by one: Npgsql would take a list as one array, SQLite would not.
        for (var i = 0; i < lane.Besides.Count; i++)
        {
            parameters.Add($"besides{i}", lane.Besides[i]);
        }

        var filter = lane.Channel is not null ? "AND n.channel = @channel"
            : lane.Besides.Count > 0 ? $"AND (n.channel IS NULL OR n.channel NOT IN ({string.Join(", ", lane.Besides.Select((_, i) => $"@besides{i}"))}))"
            : "";
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Two claims of different rows of one run and channel would each see the other's row unleased under PostgreSQL's
        // read committed, so claims take turns: each is one short statement.
        await _dialect.LockKeyAsync(connection, transaction, ClaimLockKey, cancellationToken);

        // One statement picks and leases, and the outer condition repeats the lease test, so two nodes that pick the
        // same row in the same instant cannot both take it: the second update matches nothing. A run's row in a channel
        // waits while another of the same run and channel is leased (two nodes would post its thread lines twice, and
        // the older update could land last) or an older one is undelivered (its messages go in order).
        var row = await connection.QuerySingleOrDefaultAsync<NotificationRow>(new CommandDefinition(
            $"""
            UPDATE runbook_notifications SET lease_node = @node, lease_until = @until
            WHERE id = (SELECT n.id FROM runbook_notifications n
                        WHERE n.state IN ('Routing', 'Pending', 'Failing') AND n.next_attempt_at <= @now AND COALESCE(n.lease_until, 0) <= @now
                          {filter}
                          AND NOT EXISTS (
                              SELECT 1 FROM runbook_notifications o
                              WHERE o.run_id = n.run_id AND o.channel = n.channel AND o.id <> n.id
                                AND (o.lease_until > @now
                                     OR (o.state IN ('Pending', 'Failing') AND (o.created_at < n.created_at OR (o.created_at = n.created_at AND o.id < n.id)))))
                        ORDER BY n.next_attempt_at, n.id LIMIT 1)
              AND COALESCE(lease_until, 0) <= @now
            RETURNING {NotificationColumns}
            """,
            parameters, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<NotificationRecord>> RouteNotificationAsync(string eventId, IReadOnlyList<string> channels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channels);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var source = await connection.QuerySingleOrDefaultAsync<NotificationRow>(new CommandDefinition(
            $"SELECT {NotificationColumns} FROM runbook_notifications WHERE id = @eventId AND state = 'Routing'",
            new { eventId }, transaction, cancellationToken: cancellationToken));
        if (source is null)
        {
            return [];
        }

        var deliveries = new List<NotificationRecord>();
        foreach (var channel in channels)
        {
            // The delivery's id is derived from the event's, so routing the same event twice (a lease that ran out
            // mid-route) writes the same rows, which the primary key refuses rather than doubling.
            var id = $"{eventId}-{channel}";
            await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO runbook_notifications (id, event, run_id, runbook, detail, channel, state, attempts, next_attempt_at, created_at)
                VALUES (@id, @Event, @RunId, @Runbook, @Detail, @channel, 'Pending', 0, @CreatedAt, @CreatedAt)
                ON CONFLICT (id) DO NOTHING
                """,
                new { id, source.Event, source.RunId, source.Runbook, source.Detail, channel, source.CreatedAt }, transaction, cancellationToken: cancellationToken));
            deliveries.Add(source.ToRecord() with { Id = id, Channel = channel, State = "Pending" });
        }

        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM runbook_notifications WHERE id = @eventId", new { eventId }, transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return deliveries;
    }

    /// <inheritdoc />
    public async Task DeliveredNotificationAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_notifications SET state = 'Delivered', attempts = attempts + 1, delivered_at = @now, last_error = NULL,
                lease_node = NULL, lease_until = NULL
            WHERE id = @id
            """,
            new { id, now = Now() }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task FailedNotificationAsync(string id, string failure, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            UPDATE runbook_notifications SET state = @state, attempts = attempts + 1, last_error = @error,
                next_attempt_at = COALESCE(@next, next_attempt_at), lease_node = NULL, lease_until = NULL
            WHERE id = @id AND state <> 'Delivered'
            """,
            new { id, error = failure, state = nextAttemptAt is null ? "Abandoned" : "Failing", next = nextAttemptAt?.ToUnixTimeMilliseconds() },
            cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<NotificationRecord>> ListNotificationsAsync(string? state, int limit, CancellationToken cancellationToken)
    {

        // The states are constants chosen here, never the caller's text, so they can be written into the statement.
        var filter = state?.ToUpperInvariant() switch
        {
            null => "",
            "FAILING" => "WHERE state IN ('Failing', 'Abandoned')",
            "PENDING" => "WHERE state IN ('Routing', 'Pending')",
            "DELIVERED" => "WHERE state = 'Delivered'",
            "ABANDONED" => "WHERE state = 'Abandoned'",
            _ => throw new ArgumentException($"'{state}' is not a notification state; use pending, failing, abandoned or delivered", nameof(state)),
        };
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var rows = await connection.QueryAsync<NotificationRow>(new CommandDefinition(
            $"SELECT {NotificationColumns} FROM runbook_notifications {filter} ORDER BY created_at DESC, id DESC LIMIT @limit",
            new { limit }, cancellationToken: cancellationToken));
        return [.. rows.Select(r => r.ToRecord())];
    }

    /// <inheritdoc />
    public async Task<NotificationRecord?> RetryNotificationAsync(string id, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var row = await connection.QuerySingleOrDefaultAsync<NotificationRow>(new CommandDefinition(
            $"""
            UPDATE runbook_notifications SET state = 'Pending', attempts = 0, next_attempt_at = @now, lease_node = NULL, lease_until = NULL
            WHERE id = @id AND state IN ('Failing', 'Abandoned', 'Pending')
            RETURNING {NotificationColumns}
            """,
            new { id, now = Now() }, cancellationToken: cancellationToken));
        return row?.ToRecord();
    }

    /// <inheritdoc />
    public async Task<string?> NotificationMessageAsync(string runId, string channel, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        return await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT message_ref FROM runbook_notification_messages WHERE run_id = @runId AND channel = @channel",
            new { runId, channel }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task SaveNotificationMessageAsync(string runId, string channel, string messageRef, CancellationToken cancellationToken)
    {
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO runbook_notification_messages (run_id, channel, message_ref) VALUES (@runId, @channel, @messageRef)
            ON CONFLICT (run_id, channel) DO UPDATE SET message_ref = excluded.message_ref
            """,
            new { runId, channel, messageRef }, cancellationToken: cancellationToken));
    }

    /// <inheritdoc />
    public async Task<int> AddMessageRefreshAsync(string runId, string notifyEvent, IReadOnlyList<string> channels, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channels);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        var now = Now();
        var written = 0;
        foreach (var channel in channels.Distinct(StringComparer.Ordinal))
        {
            written += await connection.ExecuteAsync(new CommandDefinition(
                """
                INSERT INTO runbook_notifications (id, event, run_id, runbook, detail, channel, state, attempts, next_attempt_at, created_at)
                SELECT @id, @notifyEvent, r.id, r.runbook, NULL, m.channel, 'Pending', 0, @now, @now
                FROM runbook_notification_messages m JOIN runbook_runs r ON r.id = m.run_id
                WHERE m.run_id = @runId AND m.channel = @channel
                """,
                new { id = NewId(), notifyEvent, runId, channel, now }, cancellationToken: cancellationToken));
        }

        return written;
    }

    /// <inheritdoc />
    public async Task<bool> FirstInteractionAsync(IReadOnlyList<string> keys, DateTimeOffset signedAt, DateTimeOffset forgetBefore, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(keys);
        await using var connection = await _dialect.OpenAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM runbook_interactions WHERE seen_at < @before",
            new { before = forgetBefore.ToUnixTimeMilliseconds() }, transaction, cancellationToken: cancellationToken));
        var now = signedAt.ToUnixTimeMilliseconds();
        foreach (var key in keys.Distinct(StringComparer.Ordinal))
        {
            // Two nodes given the same callback race on the primary key: the second insert waits for the first's
            // transaction and then inserts nothing, so exactly one of them answers the step.
            var inserted = await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO runbook_interactions (interaction_key, seen_at) VALUES (@key, @now) ON CONFLICT (interaction_key) DO NOTHING",
                new { key, now }, transaction, cancellationToken: cancellationToken));
            if (inserted == 0)
            {
                await transaction.RollbackAsync(cancellationToken);
                return false;
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private sealed class NotificationRow
    {
        public string Id { get; set; } = "";

        public string Event { get; set; } = "";

        public string? RunId { get; set; }

        public string? Runbook { get; set; }

        public string? Detail { get; set; }

        public string? Channel { get; set; }

        public string State { get; set; } = "";

        public long Attempts { get; set; }

        public long NextAttemptAt { get; set; }

        public string? LastError { get; set; }

        public long CreatedAt { get; set; }

        public long? DeliveredAt { get; set; }

        public NotificationRecord ToRecord() => new(
            Id, Event, RunId, Runbook, Detail, Channel, State, (int)Attempts, FromMs(NextAttemptAt), LastError, FromMs(CreatedAt), FromMs(DeliveredAt));
    }
}
