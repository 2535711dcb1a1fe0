namespace RunbookEngine.Notifications;

/// <summary>
/// Where events are told, section <c>RunbookEngine:Notifications</c>: named channels configured once, and which events
/// go to which of them unless a runbook's <c>notify:</c> block says otherwise.
/// </summary>
public sealed class NotificationOptions
{
    /// <summary>The channels by name, as <c>notify:</c> blocks and <see cref="Defaults"/> name them.</summary>
    public Dictionary<string, NotificationChannelOptions> Channels { get; set; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Event name (<c>failed</c>, <c>timed_out</c>, <c>waiting</c>, <c>succeeded</c>, <c>breaker_opened</c>,
    /// <c>catalog_broken</c>) → the channels it goes to when the runbook's <c>notify:</c> does not name the event. None by default.
    /// </summary>
    public Dictionary<string, List<string>> Defaults { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The address people open the dashboard at, for links in messages (<c>https://runbooks.example.com</c>). None: no links.</summary>
    public string? DashboardUrl { get; set; }

    /// <summary>How often a node looks for due deliveries when none woke it. Default 1s.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one delivery may take before it counts as failed. Default 10s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after a delivery's first failure; it doubles with each further failure, up to <see cref="MaxBackoff"/>. Default 5s.</summary>
    public TimeSpan FirstBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait between two attempts. Default 10m.</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Attempts before a delivery is abandoned (it stays listed and can be retried by hand). Default 50.</summary>
    public int MaxAttempts { get; set; } = 50;
}
