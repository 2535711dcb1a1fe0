using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Scheduling;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Notifications;

/// <summary>
/// Delivers the outbox: each node runs a worker per channel (and one for routing and unknown channels), each leasing
/// one due row of its own at a time, routing an event into deliveries or delivering one, and recording the outcome. Runs only write rows, so a receiver that is down or slow never slows or fails a run.
/// </summary>
/// <remarks>
/// A delivery is at least once: a node that dies after the receiver took a message but before recording it leaves the
/// row to be leased again. Webhooks carry the same id on every attempt, and chat channels update the message they
/// remembered for the run, so a second delivery changes nothing a person sees twice.
/// </remarks>
internal sealed partial class NotificationDelivery(
    INotificationStore store,
    IRunStore runs,
    NotificationRoutes routes,
    IEnumerable<INotificationChannel> channels,
    NodeIdentity node,
    IOptionsMonitor<RunbookEngineOptions> options,
    TimeProvider time,
    ILogger<NotificationDelivery> logger) : BackgroundService
{
    // Channel kinds by name, fixed at start.
    private readonly Dictionary<string, INotificationChannel> _kinds = channels.ToDictionary(c => c.Kind, StringComparer.OrdinalIgnoreCase);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A worker per channel configured at start, and one for routing and any channel added since: a receiver that
        // hangs holds up its own channel's deliveries, never another's.
        var known = options.CurrentValue.Notifications.Channels.Keys.Order(StringComparer.Ordinal).ToList();
        var lanes = known.Select(c => new NotificationLane(c, [])).Append(new NotificationLane(null, known));
        return Task.WhenAll(lanes.Select(lane => Task.Run(() => LoopAsync(lane, stoppingToken), CancellationToken.None)));
    }

    private async Task LoopAsync(NotificationLane lane, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var settings = options.CurrentValue.Notifications;
            try
            {
                if (!await NextAsync(settings, lane, stoppingToken))
                {
                    await Task.Delay(settings.PollInterval, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is System.Data.Common.DbException or TimeoutException or InvalidOperationException)
            {
                // The store is away: the rows wait in it, and their leases run out if this node never comes back.
                LogStoreFailed(e, settings.PollInterval);
                try
                {
                    await Task.Delay(settings.PollInterval, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Takes and handles one due row of any channel; false when none was due.</summary>
    internal Task<bool> NextAsync(NotificationOptions settings, CancellationToken cancellationToken) =>
        NextAsync(settings, NotificationLane.Any, cancellationToken);

    /// <summary>Takes and handles one due row of <paramref name="lane"/>; false when none was due.</summary>
    internal async Task<bool> NextAsync(NotificationOptions settings, NotificationLane lane, CancellationToken cancellationToken)
    {
        var row = await store.ClaimNotificationAsync(node.Id, settings.Timeout + TimeSpan.FromSeconds(30), lane, cancellationToken);
        if (row is null)
        {
            return false;
        }

        if (row.Channel is null)
        {
            var deliveries = await store.RouteNotificationAsync(row.Id, routes.For(row), cancellationToken);
            LogRouted(row.Event, row.Runbook, row.RunId, deliveries.Count);
            return true;
        }

        await DeliverAsync(row, settings, cancellationToken);
        return true;
    }

    private async Task DeliverAsync(NotificationRecord delivery, NotificationOptions settings, CancellationToken cancellationToken)
    {
        string failure;
        var giveUp = false;
        TimeSpan? retryAfter = null;
        if (!settings.Channels.TryGetValue(delivery.Channel!, out var channel))
        {
            failure = $"no channel is named '{delivery.Channel}'; configure it under RunbookEngine:Notifications:Channels or take it out of the runbook's notify: block";
            giveUp = true;
        }
        else if (!_kinds.TryGetValue(channel.Kind ?? "", out var kind))
        {
            failure = $"channel '{delivery.Channel}' has kind '{channel.Kind}', which this host cannot deliver to; use webhook, slack, teams or email";
            giveUp = true;
        }
        else
        {
            // The host's clock, not the machine's: a test's fake clock governs the timeout, as it governs the lease.
            using var limit = new CancellationTokenSource(settings.Timeout, time);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
            try
            {
                await kind.DeliverAsync(await MessageAsync(delivery, settings, cancellationToken), delivery.Channel!, channel, timeout.Token);
                await store.DeliveredNotificationAsync(delivery.Id, cancellationToken);
                LogDelivered(delivery.Event, delivery.Runbook, delivery.Channel!, delivery.Attempts + 1);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (OperationCanceledException)
            {
                failure = $"the receiver did not answer within {settings.Timeout.TotalSeconds:0.#} s";
            }
            catch (NotificationDeliveryException e)
            {
                failure = e.Message;
                retryAfter = e.RetryAfter;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or System.Net.Sockets.SocketException or MailKit.ProtocolException or MailKit.CommandException or System.Security.Authentication.AuthenticationException)
            {
                failure = e.Message;
            }
        }

        var attempts = delivery.Attempts + 1;
        var wait = Backoff(attempts, settings);
        DateTimeOffset? next = giveUp || attempts >= settings.MaxAttempts ? null : time.GetUtcNow() + (retryAfter > wait ? retryAfter.Value : wait);
        await store.FailedNotificationAsync(delivery.Id, failure, next, cancellationToken);
        LogFailed(delivery.Event, delivery.Runbook, delivery.Channel!, attempts, failure, next);
    }

    /// <summary>Doubling from the first backoff, capped.</summary>
    internal static TimeSpan Backoff(int attempts, NotificationOptions settings)
    {
        var factor = Math.Pow(2, Math.Min(attempts - 1, 30));
        var wait = settings.FirstBackoff * factor;
        return wait > settings.MaxBackoff ? settings.MaxBackoff : wait;
    }

    private async Task<NotificationMessage> MessageAsync(NotificationRecord delivery, NotificationOptions settings, CancellationToken cancellationToken)
    {
        var run = delivery.RunId is { } runId ? await runs.GetRunAsync(runId, cancellationToken) : null;
        (int, string)? waiting = null;
        if (run is not null && delivery.Event == Scripting.FrontMatter.NotifyEvents.Waiting)
        {
            var steps = await runs.GetStepsAsync(run.Id, cancellationToken);
            if (steps.LastOrDefault(s => s.Status == StepStatus.WaitingForHuman) is { } step)
            {
                waiting = (step.Sequence, step.Name);
            }
        }

        Uri? link = null;
        if (settings.DashboardUrl is { Length: > 0 } dashboard)
        {
            var path = run is not null ? $"runs/{Uri.EscapeDataString(run.Id)}" : delivery.Runbook is { } name ? $"runbooks/{Uri.EscapeDataString(name)}" : "";
            link = new Uri(new Uri(dashboard.TrimEnd('/') + "/"), path);
        }

        return new NotificationMessage(delivery, run, waiting, link);
    }

    // {Run}, not {RunId}: a line with RunId is read as written in the run's own scope, which carries its version; this
    // one is written by the outbox, which knows the run only by id.
    [LoggerMessage(EventId = 1800, Level = LogLevel.Debug, Message = "Notification {Event} of {Runbook} (run {Run}) routed to {Channels} channels")]
    private partial void LogRouted(string @event, string? runbook, string? run, int channels);

    [LoggerMessage(EventId = 1801, Level = LogLevel.Information, Message = "Notification {Event} of {Runbook} delivered to {Channel} (attempt {Attempt})")]
    private partial void LogDelivered(string @event, string? runbook, string channel, int attempt);

    [LoggerMessage(EventId = 1802, Level = LogLevel.Warning, Message = "Notification {Event} of {Runbook} to {Channel} failed (attempt {Attempt}): {Failure}; next attempt {Next:o} (none: abandoned, retry it from the API or dashboard)")]
    private partial void LogFailed(string @event, string? runbook, string channel, int attempt, string failure, DateTimeOffset? next);

    [LoggerMessage(EventId = 1803, Level = LogLevel.Warning, Message = "Notifications could not read the store; the outbox is tried again in {Interval}")]
    private partial void LogStoreFailed(Exception exception, TimeSpan interval);
}
