namespace RunbookEngine.Notifications;

/// <summary>A receiver refused or failed a delivery; the message says what it answered, for the failing list.</summary>
public sealed class NotificationDeliveryException : Exception
{
    /// <summary>Creates one.</summary>
    public NotificationDeliveryException()
    {
    }

    /// <summary>Creates one with a message.</summary>
    /// <param name="message">What the receiver answered.</param>
    public NotificationDeliveryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates one with a message and its cause.</summary>
    /// <param name="message">What the receiver answered.</param>
    /// <param name="innerException">The cause.</param>
    public NotificationDeliveryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>How long the receiver asked to be left alone (Slack's 429 <c>Retry-After</c>); the next attempt waits at least this.</summary>
    public TimeSpan? RetryAfter { get; init; }
}
