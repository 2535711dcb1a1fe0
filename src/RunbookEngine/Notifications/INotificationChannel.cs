namespace RunbookEngine.Notifications;

/// <summary>A kind of channel (<c>webhook</c>, <c>slack</c>, ...): how a message reaches it.</summary>
public interface INotificationChannel
{
    /// <summary>The <see cref="NotificationChannelOptions.Kind"/> it serves.</summary>
    string Kind { get; }

    /// <summary>Delivers one message; throws when the receiver did not take it, so the delivery is tried again.</summary>
    /// <param name="message">The message.</param>
    /// <param name="channel">The channel's name, for what it remembers per channel (a chat message to update).</param>
    /// <param name="settings">The channel's settings.</param>
    /// <param name="cancellationToken">Cancels the delivery (its timeout, or the node stopping).</param>
    /// <returns>A task.</returns>
    Task DeliverAsync(NotificationMessage message, string channel, NotificationChannelOptions settings, CancellationToken cancellationToken);
}
