using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Alerts;

/// <summary>
/// Matches stored alerts to runbooks and starts their runs, after the webhook's transaction has committed, so a slow
/// match never slows the sender. The node that received an alert matches it at once; a sweep picks up alerts whose
/// node died before matching them. Claims in the store make sure each alert is matched once across the cluster.
/// </summary>
public sealed partial class AlertDispatcher(
    IAlertStore store,
    RunbookCatalog catalog,
    RunService runs,
    CircuitBreakers breakers,
    NodeIdentity node,
    IOptions<RunbookEngineOptions> options,
    TimeProvider time,
    ILogger<AlertDispatcher> logger) : BackgroundService
{
    // An alert older than this still pending was missed by the node that stored it (it died, or its queue was lost).
    private static readonly TimeSpan PendingGrace = TimeSpan.FromSeconds(5);

    // A claim older than this belongs to a node that died while matching.
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromSeconds(60);

    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    // Alerts claimed per statement by the sweep: large enough that a backlog of 100,000 takes 200 claims, small enough
    // that a node dying mid-batch strands at most this many for ClaimTimeout.
    private const int SweepBatch = 500;

    // Batches per sweep: a backlog drains at up to 20,000 alerts a sweep, and alerts whose matching keeps failing (they
    // go back to Pending) cannot keep one sweep going for ever.
    private const int SweepRounds = 40;

    private readonly Channel<string> _queue = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleWriter = false, SingleReader = false });

    /// <summary>Hands freshly stored alerts to this node's matchers.</summary>
    /// <param name="alertIds">The alerts.</param>
    public void Enqueue(IEnumerable<string> alertIds)
    {
        ArgumentNullException.ThrowIfNull(alertIds);
        foreach (var id in alertIds)
        {
            _queue.Writer.TryWrite(id);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = Enumerable.Range(0, Math.Max(1, options.Value.Alerts.MatchingConcurrency)).Select(_ => WorkAsync(stoppingToken)).ToList();
        workers.Add(SweepAsync(stoppingToken));
        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                await ProcessSafelyAsync(id, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; anything left pending is picked up by the next sweep of any node.
        }
    }

    private async Task SweepAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await SweepOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogSweepFailed(ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Claims the alerts nobody is matching in batches and matches them: those no runbook wants are settled together in
    /// set-based statements, the others one by one. A backlog (a node that died, a restart mid-storm) drains at the speed
    /// of a few statements per batch, not two round trips per alert.
    /// </summary>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>How many alerts it claimed.</returns>
    public async Task<int> SweepOnceAsync(CancellationToken cancellationToken)
    {
        var claimed = 0;
        for (var round = 0; round < SweepRounds; round++)
        {
            var now = time.GetUtcNow();
            var batch = await store.ClaimAlertsAsync(node.Id, now - PendingGrace, now - ClaimTimeout, SweepBatch, cancellationToken);
            claimed += batch.Count;
            var unautomated = new List<AlertRecord>();
            foreach (var record in batch)
            {
                if (Unautomated(catalog, record.Alert) is null)
                {
                    await ProcessSafelyAsync(record.Id, cancellationToken, record);
                }
                else
                {
                    unautomated.Add(record);
                }
            }

            foreach (var group in unautomated.GroupBy(r => Unautomated(catalog, r.Alert)!, StringComparer.Ordinal))
            {
                await store.SetOutcomesAsync([.. group.Select(r => r.Id)], AlertOutcome.Unautomated, group.Key, cancellationToken);
            }

            if (batch.Count < SweepBatch)
            {
                break;
            }
        }

        return claimed;
    }

    /// <summary>
    /// Why a firing alert is unautomated, when no runbook's rules match it; null when one does, when it is a resolution
    /// (which may cancel runs) or while the catalog is not loaded (an empty catalog matches nothing, which proves nothing).
    /// </summary>
    /// <param name="catalog">The runbooks.</param>
    /// <param name="alert">The alert.</param>
    /// <returns>The outcome's detail, or null.</returns>
    public static string? Unautomated(RunbookCatalog catalog, RunbookAlert alert)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(alert);
        return catalog.IsReady && alert.Status == AlertStatus.Firing && AlertMatcher.Match(catalog.Entries, alert).Count == 0 ? UnautomatedDetail(alert) : null;
    }

    private static string UnautomatedDetail(RunbookAlert alert) => $"no runbook's alerts: rules match {alert.Source} alert '{alert.Name}'";

    private async Task ProcessSafelyAsync(string alertId, CancellationToken cancellationToken, AlertRecord? claimed = null)
    {
        try
        {
            await ProcessAsync(alertId, cancellationToken, claimed);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogMatchFailed(ex, alertId);

            // Hand the alert back so the next sweep (seconds away) matches it again; the decisions already recorded,
            // and the one-run-per-alert-and-runbook rule, keep that from starting anything twice. If the store is
            // still unreachable the claim goes stale instead and is taken over after a minute.
            try
            {
                await store.SetOutcomeAsync(alertId, AlertOutcome.Pending, $"matching failed ({ex.Message}); it is retried", CancellationToken.None);
            }
            catch (Exception again) when (again is not OperationCanceledException)
            {
                LogMatchFailed(again, alertId);
            }
        }
    }

    /// <summary>Matches one alert, if this node can claim it.</summary>
    /// <param name="alertId">The alert.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <param name="claimed">The alert, when this node has already claimed it.</param>
    /// <returns>A task.</returns>
    public async Task ProcessAsync(string alertId, CancellationToken cancellationToken, AlertRecord? claimed = null)
    {
        var record = claimed ?? await store.ClaimAlertAsync(alertId, node.Id, time.GetUtcNow() - ClaimTimeout, cancellationToken);
        if (record is null)
        {
            return;
        }

        using var scope = logger.BeginScope(new Dictionary<string, object> { ["AlertId"] = record.Id, ["Alert"] = record.Alert.Name });
        // Matching continues the trace of the request that delivered the alert, whichever node and however late it runs.
        using var activity = Telemetry.RunTracing.Source.StartActivity("match alert", ActivityKind.Internal, Telemetry.RunTracing.Parse(record.TraceParent))
            ?.SetTag("runbook.alert.id", record.Id).SetTag("runbook.alert.name", record.Alert.Name).SetTag("runbook.alert.source", record.Alert.Source);
        if (record.Alert.Status == AlertStatus.Resolved)
        {
            await ResolveAsync(record, cancellationToken);
            return;
        }

        var matches = AlertMatcher.Match(catalog.Entries, record.Alert);
        if (matches.Count == 0)
        {
            await store.SetOutcomeAsync(record.Id, AlertOutcome.Unautomated, UnautomatedDetail(record.Alert), cancellationToken);
            LogUnautomated(record.Alert.Name, record.Alert.Source);
            return;
        }

        var decisions = new List<AlertDecision>();
        var earlier = (await store.GetDecisionsAsync(record.Id, cancellationToken)).ToDictionary(d => d.Runbook, StringComparer.Ordinal);
        foreach (var entry in matches)
        {
            var decision = earlier.GetValueOrDefault(entry.Name) ?? await DecideAsync(record, entry, cancellationToken);
            await store.AddDecisionAsync(record.Id, decision, cancellationToken);
            decisions.Add(decision);
        }

        var started = decisions.Any(d => d.Decision == AlertDecisionKind.Started);
        var detail = string.Join("; ", decisions.Select(d => $"{d.Runbook}: {Describe(d)}"));
        await store.SetOutcomeAsync(record.Id, started ? AlertOutcome.Started : AlertOutcome.Guarded, detail, cancellationToken);
        activity?.SetTag("runbook.alert.outcome", detail);
        LogMatched(record.Alert.Name, detail);
    }

    private async Task<AlertDecision> DecideAsync(AlertRecord record, CatalogEntry entry, CancellationToken cancellationToken)
    {
        AlertDecision Decision(AlertDecisionKind kind, string? runId, string? reason) => new(entry.Name, kind, runId, reason, time.GetUtcNow());

        if (!entry.IsValid)
        {
            return Decision(AlertDecisionKind.RunbookInvalid, null, "the runbook does not compile or its front matter is invalid");
        }

        // Matching again after a crash: the run this alert already started stands.
        if ((await store.RunsForAlertAsync(record.Id, cancellationToken)).FirstOrDefault(r => r.Runbook == entry.Name && r.RetryOf is null) is { } existing)
        {
            return Decision(AlertDecisionKind.Started, existing.Id, null);
        }

        if (await breakers.CheckAsync(entry.Name, cancellationToken) is { } open)
        {
            LogSuppressed(record.Alert.Name, entry.Name, open);
            return Decision(AlertDecisionKind.Suppressed, null, open);
        }

        var result = await runs.TriggerAsync(entry.Name, new Dictionary<string, string>(), RunTrigger.Alert,
            $"{record.Alert.Source}:{record.Alert.Name}", retryOf: null, cancellationToken, (record.Id, record.Alert));
        var reason = result.Errors.Count == 0 ? null : string.Join("; ", result.Errors);
        return result.Problem switch
        {
            TriggerProblem.None => Decision(AlertDecisionKind.Started, result.Run!.Id, null),
            TriggerProblem.Busy => Decision(AlertDecisionKind.Busy, null, reason),
            TriggerProblem.Cooldown => Decision(AlertDecisionKind.Cooldown, null, reason),
            TriggerProblem.InvalidParameters => Decision(AlertDecisionKind.InvalidParameters, null, reason),
            _ => Decision(AlertDecisionKind.RunbookInvalid, null, reason ?? "the runbook is no longer in the catalog"),
        };
    }

    private static string Describe(AlertDecision decision) => decision.Decision switch
    {
        AlertDecisionKind.Started => $"started run {decision.RunId}",
        _ => $"{decision.Decision.ToString().ToLowerInvariant()} ({decision.Reason})",
    };

    /// <summary>
    /// Closes the loop: the firing alert gets its resolution time (for time to resolve), and runs it started that are
    /// still queued or waiting for a person are cancelled when their runbook says <c>cancel_on_resolve: true</c>.
    /// </summary>
    private async Task ResolveAsync(AlertRecord record, CancellationToken cancellationToken)
    {
        var alert = record.Alert;
        var resolvedAt = alert.EndsAt ?? record.ReceivedAt;
        // Only firings stored before this resolution: it may have waited in the queue while the alert fired again, and
        // the new firing (whose start the sender may or may not report) is not what it resolves.
        var closed = await store.ResolveAlertsAsync(alert.Source, alert.Fingerprint, startsAt: null, resolvedAt, record.ReceivedAt, cancellationToken);
        var cancelled = new List<string>();
        foreach (var firingId in closed)
        {
            foreach (var run in await store.RunsForAlertAsync(firingId, cancellationToken))
            {
                if (run.Status is RunStatus.Queued or RunStatus.WaitingForHuman && catalog.Find(run.Runbook)?.Definition?.CancelOnResolve == true
                    && await runs.CancelAsync(run.Id, cancellationToken) is CancelOutcome.Cancelled or CancelOutcome.Requested)
                {
                    cancelled.Add(run.Id);
                }
            }
        }

        var detail = closed.Count == 0
            ? $"no open firing alert with fingerprint {alert.Fingerprint}"
            : $"resolved {string.Join(", ", closed)}{(cancelled.Count == 0 ? "" : $"; cancelled runs {string.Join(", ", cancelled)}")}";
        await store.SetOutcomeAsync(record.Id, AlertOutcome.Resolution, detail, cancellationToken);
        LogResolved(alert.Name, detail);
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Alert {Alert} matched: {Detail}")]
    private partial void LogMatched(string alert, string detail);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Alert {Alert} from {Source} matches no runbook; recorded as unautomated")]
    private partial void LogUnautomated(string alert, string source);

    [LoggerMessage(EventId = 402, Level = LogLevel.Warning, Message = "Alert {Alert} did not start {Runbook}: {Reason}")]
    private partial void LogSuppressed(string alert, string runbook, string reason);

    [LoggerMessage(EventId = 403, Level = LogLevel.Information, Message = "Alert {Alert} resolved: {Detail}")]
    private partial void LogResolved(string alert, string detail);

    [LoggerMessage(EventId = 404, Level = LogLevel.Error, Message = "Matching alert {AlertId} failed; a later sweep tries again")]
    private partial void LogMatchFailed(Exception exception, string alertId);

    [LoggerMessage(EventId = 405, Level = LogLevel.Error, Message = "Sweeping unmatched alerts failed; trying again at the next interval")]
    private partial void LogSweepFailed(Exception exception);
}
