using RunbookEngine.Notifications;

namespace RunbookEngine.Storage;

/// <summary>The notifications outbox. Implemented by both run store backends.</summary>
public interface INotificationStore
{
    /// <summary>Writes an event that no run outcome carries (a breaker opened, a catalog sync failed) to the outbox.</summary>
    /// <param name="notifyEvent">The event, one of <see cref="Scripting.FrontMatter.NotifyEvents"/>.</param>
    /// <param name="runbook">The runbook it is about, if any.</param>
    /// <param name="detail">What happened, for a person.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task AddNotificationAsync(string notifyEvent, string? runbook, string? detail, CancellationToken cancellationToken);

    /// <summary>Leases the next due row (an event to route or a delivery to try) to <paramref name="node"/>, or none.</summary>
    /// <param name="node">The node that takes it.</param>
    /// <param name="lease">How long no other node takes it; a node that dies holding it loses it after this.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The row, or null when nothing is due.</returns>
    Task<NotificationRecord?> ClaimNotificationAsync(string node, TimeSpan lease, CancellationToken cancellationToken);

    /// <summary>
    /// Leases the next due row of <paramref name="lane"/> to <paramref name="node"/>, or none. A delivery is skipped while
    /// another row of the same run and channel is leased, or an older one of them is still pending or failing, so one
    /// run's messages in one channel are delivered one at a time and in order, whichever node takes them.
    /// </summary>
    /// <param name="node">The node that takes it.</param>
    /// <param name="lease">How long no other node takes it; a node that dies holding it loses it after this.</param>
    /// <param name="lane">Which rows: one channel's, or the rest.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The row, or null when nothing is due.</returns>
    Task<NotificationRecord?> ClaimNotificationAsync(string node, TimeSpan lease, NotificationLane lane, CancellationToken cancellationToken);

    /// <summary>Replaces a leased event with one pending delivery per channel, in one transaction.</summary>
    /// <param name="eventId">The event row.</param>
    /// <param name="channels">Where it goes; none deletes it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The deliveries written.</returns>
    Task<IReadOnlyList<NotificationRecord>> RouteNotificationAsync(string eventId, IReadOnlyList<string> channels, CancellationToken cancellationToken);

    /// <summary>Marks a delivery done, and releases its lease.</summary>
    /// <param name="id">The delivery.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task DeliveredNotificationAsync(string id, CancellationToken cancellationToken);

    /// <summary>Records a failed attempt: Failing until <paramref name="nextAttemptAt"/>, or Abandoned when it is null.</summary>
    /// <param name="id">The delivery.</param>
    /// <param name="failure">Why it failed, for a person.</param>
    /// <param name="nextAttemptAt">When to try again, or null to give up until someone retries it.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task FailedNotificationAsync(string id, string failure, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken);

    /// <summary>Lists outbox rows, newest first.</summary>
    /// <param name="state">Only rows in this state; <c>failing</c> means Failing or Abandoned. Null for all.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The rows.</returns>
    Task<IReadOnlyList<NotificationRecord>> ListNotificationsAsync(string? state, int limit, CancellationToken cancellationToken);

    /// <summary>Makes a failing or abandoned delivery due now, with its attempts counted afresh.</summary>
    /// <param name="id">The delivery.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The delivery, or null when there is no such delivery or it was delivered already.</returns>
    Task<NotificationRecord?> RetryNotificationAsync(string id, CancellationToken cancellationToken);

    /// <summary>The chat message a channel posted for a run, so the next event updates it rather than posting again.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The channel's reference to the message (Slack's channel and ts), or null.</returns>
    Task<string?> NotificationMessageAsync(string runId, string channel, CancellationToken cancellationToken);

    /// <summary>Remembers the chat message a channel posted for a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="channel">The channel.</param>
    /// <param name="messageRef">The channel's reference to the message.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task SaveNotificationMessageAsync(string runId, string channel, string messageRef, CancellationToken cancellationToken);

    /// <summary>
    /// Writes a delivery of <paramref name="notifyEvent"/> for a run to each of <paramref name="channels"/> that posted a
    /// message for it, so the delivery loop, the one writer of those messages, shows the run as it then stands.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="notifyEvent">What the row is listed as (an answer from chat: <c>answered</c>).</param>
    /// <param name="channels">The channels; one without a message for the run is skipped.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>How many deliveries were written.</returns>
    Task<int> AddMessageRefreshAsync(string runId, string notifyEvent, IReadOnlyList<string> channels, CancellationToken cancellationToken);

    /// <summary>
    /// Records that a chat callback was seen, under each of its keys (its signature, its trigger id), unless any was seen
    /// before; keys signed before <paramref name="forgetBefore"/> are forgotten first, as callbacks that old are refused
    /// anyway. Keys are kept by the time the sender signed, not by a node's clock, so nodes whose clocks differ forget alike.
    /// </summary>
    /// <param name="keys">What identifies the callback.</param>
    /// <param name="signedAt">The callback's signed timestamp.</param>
    /// <param name="forgetBefore">Keys signed before this are dropped.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when none of the keys was seen before (by any node); false for a replay.</returns>
    Task<bool> FirstInteractionAsync(IReadOnlyList<string> keys, DateTimeOffset signedAt, DateTimeOffset forgetBefore, CancellationToken cancellationToken);
}
