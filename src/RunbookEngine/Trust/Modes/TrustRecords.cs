using Microsoft.Extensions.Options;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.Modes;

/// <summary>
/// Runbooks' records in shadow and confirm mode, and the promotion each record suggests. Suggesting is all it does:
/// a runbook's mode is its front matter's, changed by a person in review, never by the host.
/// </summary>
public sealed class TrustRecords(ITrustStore store, IOptions<RunbookEngineOptions> options, TimeProvider time)
{
    /// <summary>How many of a runbook's latest proposals its record lists.</summary>
    public const int LatestShown = 5;

    private readonly ListCache<Dictionary<string, TrustCounts>> _counts = new(() => options.Value.Trust.ListCacheFor, time);

    /// <summary>
    /// Every runbook's counts, by name, in one read (for lists of runbooks), up to <see cref="TrustOptions.ListCacheFor"/> old.
    /// </summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Runbooks with a record; others have none yet.</returns>
    public async Task<IReadOnlyDictionary<string, TrustCounts>> AllCountsAsync(CancellationToken cancellationToken) =>
        await _counts.GetAsync(
            async ct => (await store.TrustCountsAsync(null, ct)).ToDictionary(c => c.Runbook, StringComparer.Ordinal),
            cancellationToken);

    /// <summary>One runbook's record with its latest proposals.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="mode">Its mode now.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The record.</returns>
    public async Task<TrustRecord> ForAsync(string runbook, RunMode mode, CancellationToken cancellationToken)
    {
        var found = await store.TrustCountsAsync(runbook, cancellationToken);
        var counts = found.Count > 0 ? found[0] : TrustCounts.None(runbook);
        var latest = await store.LatestProposalsAsync(runbook, LatestShown, cancellationToken);
        return Of(mode, counts) with
        {
            Latest = [.. latest.Where(r => r.Proposal is not null).Select(r => new ProposalEntry(r.Id, r.QueuedAt, r.Trigger, r.Proposal!, r.Verdict))],
        };
    }

    /// <summary>A record from counts already read, with its suggestion.</summary>
    /// <param name="mode">The runbook's mode now.</param>
    /// <param name="counts">Its counts.</param>
    /// <returns>The record, without the latest proposals.</returns>
    public TrustRecord Of(RunMode mode, TrustCounts counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var (suggestion, suggested) = Suggest(mode, counts, options.Value.Trust);
        return new TrustRecord(
            mode,
            new ShadowRecord(counts.Proposals, counts.Agreed, counts.Disagreed, counts.AwaitingVerdict, counts.AgreedSinceDisagreed),
            new ConfirmRecord(counts.Approved, counts.Rejected, counts.Waiting, counts.ApprovedSinceRejected),
            suggestion,
            suggested);
    }

    /// <summary>
    /// The next mode once the record supports it: <c>confirm</c> after enough proposals judged right in a row,
    /// <c>auto</c> after enough approvals given in a row. Only the next step up is suggested, so a runbook passes
    /// through confirm mode, where a person still sees each action before it happens.
    /// </summary>
    internal static (string? Text, RunMode? Mode) Suggest(RunMode mode, TrustCounts counts, TrustOptions thresholds) => mode switch
    {
        RunMode.Shadow when counts.AgreedSinceDisagreed >= thresholds.ShadowToConfirmAfter => (
            counts.Disagreed == 0
                ? $"{counts.Proposals} proposals, {counts.Agreed} agreed: consider `confirm`"
                : $"{counts.AgreedSinceDisagreed} proposals agreed since the last one judged wrong ({counts.Proposals} proposals, {counts.Agreed} agreed, {counts.Disagreed} disagreed): consider `confirm`",
            RunMode.Confirm),
        RunMode.Confirm when counts.ApprovedSinceRejected >= thresholds.ConfirmToAutoAfter => (
            counts.Rejected == 0
                ? $"{counts.Approved} confirmations, {counts.Approved} approved: consider `auto`"
                : $"{counts.ApprovedSinceRejected} confirmations approved since the last one rejected ({counts.Approved} approved, {counts.Rejected} rejected): consider `auto`",
            RunMode.Auto),
        _ => (null, null),
    };
}
