using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;

namespace RunbookEngine.Notifications;

/// <summary>Which channels an event goes to: the runbook's <c>notify:</c> for that event, else the configured default.</summary>
/// <remarks>
/// Routes are read when the event is routed, from the runbook the catalog serves then, not the version the run ran:
/// a runbook whose channel moved should not page the old one for a run that started before the change.
/// </remarks>
internal sealed class NotificationRoutes(RunbookCatalog catalog, IOptionsMonitor<RunbookEngineOptions> options)
{
    public IReadOnlyList<string> For(NotificationRecord notification)
    {
        if (notification.Runbook is { } runbook
            && catalog.Find(runbook)?.Definition?.Notify is { } notify
            && notify.TryGetValue(notification.Event, out var own))
        {
            return own;
        }

        return options.CurrentValue.Notifications.Defaults.TryGetValue(notification.Event, out var channels) ? [.. channels.Distinct(StringComparer.Ordinal)] : [];
    }
}
