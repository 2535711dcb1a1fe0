using System.Data.Common;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Storage;

namespace RunbookEngine.Alerts;

/// <summary>
/// The webhook path from an authenticated request to stored alerts: parse, store every alert of the request in one
/// transaction, answer, and only then hand the alerts to matching. Bad input is refused with a 4xx before anything is
/// stored; a 5xx means the store is down and the sender should retry.
/// </summary>
public sealed partial class AlertIngest(IAlertStore store, AlertDispatcher dispatcher, Catalog.RunbookCatalog catalog, Toil.EngineMetrics metrics, IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<AlertIngest> logger) : IDisposable
{
    private readonly SemaphoreSlim _storing = new(Math.Max(1, options.Value.Alerts.IngestConcurrency));

    /// <summary>The largest body accepted.</summary>
    public long MaxBodyBytes => options.Value.Alerts.MaxBodyBytes;

    /// <summary>Parses and stores an authenticated request, then queues its new alerts for matching.</summary>
    /// <param name="source">The source.</param>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The answer for the sender.</returns>
    public async Task<IngestResponse> IngestAsync(IAlertSource source, WebhookRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(request);
        var parsed = source.Parse(request, time.GetUtcNow());
        if (parsed is WebhookRejected rejected)
        {
            LogRejected(source.Name, rejected.StatusCode, rejected.Reason);
            return new IngestResponse(rejected.StatusCode, new { error = rejected.Reason });
        }

        var accepted = (WebhookAccepted)parsed;
        using var activity = Telemetry.RunTracing.Source.StartActivity("store alerts")?.SetTag("runbook.alert.source", source.Name).SetTag("runbook.alert.count", accepted.Alerts.Count);
        if (accepted.Alerts.Count == 0)
        {
            return new IngestResponse(200, new { accepted = 0, note = accepted.Note });
        }

        var payload = Encoding.UTF8.GetString(request.Body.Span);
        // An id the source read from its (signed) body names the delivery; an unsigned header only stands in when there is none.
        var deliveryId = accepted.Alerts[0].Alert.DeliveryId is { Length: > 0 } fromBody && accepted.Alerts.All(a => a.Alert.DeliveryId == fromBody)
            ? fromBody
            : Header(request, "X-Webhook-Id") ?? Header(request, "X-GitHub-Delivery");
        IReadOnlyList<StoredAlert> stored;
        try
        {
            // Deciding here that an alert matches no runbook is a pure function of the catalog, so the noise of a storm is
            // settled in the webhook's own transaction and the matchers see only the alerts that may start something.
            var unautomated = accepted.Alerts.Select(a => AlertDispatcher.Unautomated(catalog, a.Alert)).ToList();
            var incidents = accepted.Alerts.Select(a => Incidents.IncidentGrouping.For(a, options.Value.Incidents)).ToList();
            await _storing.WaitAsync(cancellationToken);
            try
            {
                stored = await store.IngestAsync(
                    new WebhookDelivery(source.Name, deliveryId, payload, accepted.Alerts, Telemetry.RunTracing.CurrentTraceParent(), unautomated, incidents)
                    {
                        OnGroupingFailed = ex => LogGroupingFailed(ex, source.Name),
                    },
                    cancellationToken);
            }
            finally
            {
                _storing.Release();
            }
        }
        catch (Exception ex) when (ex is DbException or TimeoutException or IOException || ex.InnerException is DbException or TimeoutException or IOException)
        {
            LogStoreDown(ex, source.Name);
            activity?.SetStatus(ActivityStatusCode.Error, "the alert store is unavailable");
            return new IngestResponse(503, new { error = "the alert store is unavailable; the alerts were not stored, retry later" });
        }

        metrics.AlertsReceived(source.Name, stored.Count);
        dispatcher.Enqueue(stored.Where(a => a.Outcome == AlertOutcome.Pending).Select(a => a.Id));
        var duplicates = stored.Count(a => a.DuplicateOf is not null);
        if (stored.Count(a => a.Outcome == AlertOutcome.Unautomated) is > 0 and var settled)
        {
            LogUnautomated(settled, source.Name);
        }

        activity?.SetTag("runbook.alert.duplicates", duplicates).SetTag("runbook.alert.ids", string.Join(",", stored.Select(a => a.Id)));
        LogStored(stored.Count, source.Name, duplicates);
        return new IngestResponse(202, new
        {
            accepted = stored.Count,
            duplicates,
            note = accepted.Note,
            alerts = stored.Select(a => new { id = a.Id, status = a.Status.ToString().ToLowerInvariant(), outcome = a.Outcome.ToString().ToLowerInvariant(), duplicateOf = a.DuplicateOf }),
        });
    }

    /// <inheritdoc />
    public void Dispose() => _storing.Dispose();

    // One header lookup for the whole webhook path (case-insensitive whatever dictionary the caller built); empty is absent.
    private static string? Header(WebhookRequest request, string name) => WebhookJson.Header(request, name) is { Length: > 0 } value ? value : null;

    [LoggerMessage(EventId = 410, Level = LogLevel.Debug, Message = "Stored {Count} alerts from {Source} ({Duplicates} duplicates)")]
    private partial void LogStored(int count, string source, int duplicates);

    [LoggerMessage(EventId = 414, Level = LogLevel.Information, Message = "{Count} alerts from {Source} match no runbook; recorded as unautomated")]
    private partial void LogUnautomated(int count, string source);

    [LoggerMessage(EventId = 411, Level = LogLevel.Warning, Message = "Refused a {Source} webhook with {Status}: {Reason}")]
    private partial void LogRejected(string source, int status, string reason);

    [LoggerMessage(EventId = 415, Level = LogLevel.Warning, Message = "Could not group alerts from {Source} into incidents; they were stored without an incident and stay ungrouped")]
    private partial void LogGroupingFailed(Exception exception, string source);

    [LoggerMessage(EventId = 413, Level = LogLevel.Error, Message = "Could not store a {Source} webhook; answered 503 so the sender retries")]
    private partial void LogStoreDown(Exception exception, string source);
}

/// <summary>What the webhook endpoint answers.</summary>
/// <param name="StatusCode">The HTTP status.</param>
/// <param name="Body">The JSON body.</param>
public sealed record IngestResponse(int StatusCode, object Body);
