using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using RunbookEngine.Storage;

namespace RunbookEngine.Dashboard.Pages;

/// <summary>A retry of a failing delivery, from the notifications page.</summary>
internal static partial class Actions
{
    public static async Task<IResult> RetryNotificationAsync(string id, HttpContext context, INotificationStore store, ILogger<DashboardLog> log, CancellationToken cancellationToken) =>
        await ActAsync(context, "/notifications", log, async who =>
            await store.RetryNotificationAsync(id, cancellationToken) is null
                ? (false, "that delivery is not failing any more")
                : (true, "delivery due again now"));
}
