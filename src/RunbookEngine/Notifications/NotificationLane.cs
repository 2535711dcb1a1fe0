namespace RunbookEngine.Notifications;

/// <summary>
/// The rows one delivery worker takes: one channel's deliveries (<paramref name="Channel"/>), or, when that is null,
/// events to route and deliveries to any channel not in <paramref name="Besides"/>. A worker per channel means a
/// receiver that hangs delays only its own channel.
/// </summary>
/// <param name="Channel">The channel, or null for the rest.</param>
/// <param name="Besides">With no channel: the channels other workers take.</param>
public sealed record NotificationLane(string? Channel, IReadOnlyList<string> Besides)
{
    /// <summary>Every row.</summary>
    public static NotificationLane Any { get; } = new(null, []);
}
