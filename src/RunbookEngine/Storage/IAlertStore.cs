using RunbookEngine.Alerts;
using RunbookEngine.Runs;

namespace RunbookEngine.Storage;

/// <summary>Alerts, what was decided about them, and circuit breakers. Implemented by both run store backends.</summary>
public interface IAlertStore
{
    /// <summary>
    /// Stores a delivery and all its alerts in one transaction. An alert whose dedup key was seen before is stored as a
    /// <see cref="AlertOutcome.Duplicate"/> of the first; one the delivery already knows to be unautomated is stored so; the
    /// others are <see cref="AlertOutcome.Pending"/> until matched.
    /// </summary>
    /// <param name="delivery">The accepted request.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Each alert's id and whether it repeats another, in the delivery's order.</returns>
    Task<IReadOnlyList<StoredAlert>> IngestAsync(WebhookDelivery delivery, CancellationToken cancellationToken);

    /// <summary>Takes a pending alert for matching; false when another node has it or it is done.</summary>
    /// <param name="alertId">The alert.</param>
    /// <param name="node">This node.</param>
    /// <param name="staleBefore">A claim older than this was left by a node that died; it may be taken over.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The alert, when this node now holds it.</returns>
    Task<AlertRecord?> ClaimAlertAsync(string alertId, string node, DateTimeOffset staleBefore, CancellationToken cancellationToken);

    /// <summary>
    /// Takes a batch of alerts waiting for matching (pending since before a time, or claimed by a node that went away)
    /// in one statement, so a backlog after an outage is matched in batches, not one round trip per alert.
    /// </summary>
    /// <param name="node">This node.</param>
    /// <param name="pendingBefore">Pending alerts older than this.</param>
    /// <param name="staleBefore">Claims older than this may be taken over.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The alerts this node now holds, oldest first.</returns>
    Task<IReadOnlyList<AlertRecord>> ClaimAlertsAsync(string node, DateTimeOffset pendingBefore, DateTimeOffset staleBefore, int limit, CancellationToken cancellationToken);

    /// <summary>Ends matching of many alerts with the same outcome and explanation, in set-based statements.</summary>
    /// <param name="alertIds">The alerts.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="detail">Why.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task SetOutcomesAsync(IReadOnlyCollection<string> alertIds, AlertOutcome outcome, string? detail, CancellationToken cancellationToken);

    /// <summary>Records a decision for one runbook; false when one is already recorded (matching was repeated).</summary>
    /// <param name="alertId">The alert.</param>
    /// <param name="decision">The decision.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Whether it was recorded.</returns>
    Task<bool> AddDecisionAsync(string alertId, AlertDecision decision, CancellationToken cancellationToken);

    /// <summary>Ends matching: the alert's outcome and its explanation.</summary>
    /// <param name="alertId">The alert.</param>
    /// <param name="outcome">The outcome.</param>
    /// <param name="detail">Why.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task SetOutcomeAsync(string alertId, AlertOutcome outcome, string? detail, CancellationToken cancellationToken);

    /// <summary>
    /// Records a resolution: every firing alert of the same source and fingerprint (and start, when given) that is not
    /// yet resolved gets the resolution time. Only firings stored up to <paramref name="receivedBy"/> are closed: a
    /// resolution that waited in the queue must not close the same alert firing again after it.
    /// </summary>
    /// <param name="source">The source.</param>
    /// <param name="fingerprint">The alert's fingerprint.</param>
    /// <param name="startsAt">The start of the incident, when the source says.</param>
    /// <param name="resolvedAt">When it ended.</param>
    /// <param name="receivedBy">When the resolution was received; null closes firings whenever they were received.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The ids of the firing alerts it closed.</returns>
    Task<IReadOnlyList<string>> ResolveAlertsAsync(string source, string fingerprint, DateTimeOffset? startsAt, DateTimeOffset resolvedAt, DateTimeOffset? receivedBy, CancellationToken cancellationToken);

    /// <summary>An alert.</summary>
    /// <param name="id">Its id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>It, or null.</returns>
    Task<AlertRecord?> GetAlertAsync(string id, CancellationToken cancellationToken);

    /// <summary>An alert's raw delivery payload.</summary>
    /// <param name="deliveryRowId">The delivery.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The body as received, or null.</returns>
    Task<string?> GetPayloadAsync(string deliveryRowId, CancellationToken cancellationToken);

    /// <summary>The decisions recorded for an alert.</summary>
    /// <param name="alertId">The alert.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One per matching runbook.</returns>
    Task<IReadOnlyList<AlertDecision>> GetDecisionsAsync(string alertId, CancellationToken cancellationToken);

    /// <summary>A page of alerts, newest first.</summary>
    /// <param name="query">Filters and cursor.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The alerts.</returns>
    Task<IReadOnlyList<AlertRecord>> ListAlertsAsync(AlertQuery query, CancellationToken cancellationToken);

    /// <summary>The runs an alert started.</summary>
    /// <param name="alertId">The alert.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>Its runs.</returns>
    Task<IReadOnlyList<RunRecord>> RunsForAlertAsync(string alertId, CancellationToken cancellationToken);

    /// <summary>The most recent run of a runbook for a target that is still active or ended after a time.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="target">The target.</param>
    /// <param name="since">Runs that ended before this do not count.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The run, or null.</returns>
    Task<RunRecord?> RecentRunForTargetAsync(string runbook, string target, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>How many alert-started runs of a runbook were queued, and how many failed, since a time.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="since">The window's start.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The counts.</returns>
    Task<(int Runs, int Failures)> AlertRunCountsAsync(string runbook, DateTimeOffset since, CancellationToken cancellationToken);

    /// <summary>A runbook's breaker row, or null when it never opened.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The breaker.</returns>
    Task<BreakerRecord?> GetBreakerAsync(string runbook, CancellationToken cancellationToken);

    /// <summary>Every breaker row.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The breakers.</returns>
    Task<IReadOnlyList<BreakerRecord>> ListBreakersAsync(CancellationToken cancellationToken);

    /// <summary>Opens a breaker until a time; an open breaker stays as it is.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="until">When it closes on its own.</param>
    /// <param name="reason">Why it opens.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when this call opened it.</returns>
    Task<bool> OpenBreakerAsync(string runbook, DateTimeOffset until, string reason, CancellationToken cancellationToken);

    /// <summary>Closes a breaker by hand; runs before now stop counting toward opening it again.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="by">Who.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task ResetBreakerAsync(string runbook, string by, CancellationToken cancellationToken);
}
