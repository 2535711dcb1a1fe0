using System.Globalization;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Trust.Freshness;

/// <summary>
/// Judges a runbook's freshness from its facts, its front matter and the date: a pure function, so the API, the
/// dashboard and <c>/metrics</c> cannot disagree, and the rules are tested on a fake clock.
/// </summary>
public static class FreshnessRules
{
    /// <summary>The runbook's freshness now.</summary>
    /// <param name="definition">Its front matter (null when it has none that parses: then only the store's facts count).</param>
    /// <param name="facts">What the store knows of it; null when it knows nothing.</param>
    /// <param name="options">The thresholds.</param>
    /// <param name="now">Now.</param>
    /// <returns>The state, its reasons (stale ones first) and the facts.</returns>
    /// <remarks>
    /// A runbook nobody has run or drilled yet is aging ("never proven"), not stale: it is measured from the day the
    /// catalog first saw it, so it turns stale only when it has gone <see cref="FreshnessOptions.StaleAfter"/> without proof.
    /// </remarks>
    public static RunbookFreshness Evaluate(RunbookDefinition? definition, FreshnessFacts? facts, FreshnessOptions options, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(options);
        var stale = new List<string>();
        var aging = new List<string>();
        var today = DateOnly.FromDateTime(now.UtcDateTime);

        if (facts is { LatestDrillFailed: true, LastFailingDrillAt: { } failedAt })
        {
            stale.Add($"the latest drill failed at {When(failedAt)}{(facts.LastFailingDrillRunId is { } run ? $" (run {run})" : "")}: {facts.LastFailingDrillError ?? "no reason recorded"}");
        }

        if (definition?.ReviewBy is { } reviewBy)
        {
            if (reviewBy < today)
            {
                stale.Add($"its review_by date {Day(reviewBy)} has passed: someone should check it still fits the systems it fixes, then set a new date");
            }
            else if (reviewBy.ToDateTime(TimeOnly.MinValue) - today.ToDateTime(TimeOnly.MinValue) <= options.ReviewWarning)
            {
                var days = reviewBy.DayNumber - today.DayNumber;
                aging.Add(days == 0 ? $"its review_by date {Day(reviewBy)} is today" : $"its review_by date {Day(reviewBy)} is in {Days(days)}");
            }
        }

        if (facts?.LastProvenAt is { } proven)
        {
            var age = now - proven;
            if (age > options.StaleAfter)
            {
                stale.Add($"nothing has proven it works for {Days((int)age.TotalDays)}: no successful run or passing drill since {When(proven)} (stale after {Durations.Format(options.StaleAfter)})");
            }
            else if (age > options.AgingAfter)
            {
                aging.Add($"no successful run or passing drill since {When(proven)}, {Days((int)age.TotalDays)} ago (aging after {Durations.Format(options.AgingAfter)})");
            }
        }
        else if (facts?.FirstSeenAt is { } first && now - first > options.StaleAfter)
        {
            stale.Add($"never proven: no successful run or passing drill since it appeared on {Day(DateOnly.FromDateTime(first.UtcDateTime))}, {Days((int)(now - first).TotalDays)} ago (stale after {Durations.Format(options.StaleAfter)})");
        }
        else
        {
            aging.Add(facts?.FirstSeenAt is { } appeared
                ? $"never proven: no successful run or passing drill since it appeared on {Day(DateOnly.FromDateTime(appeared.UtcDateTime))}"
                : "never proven: no successful run or passing drill yet");
        }

        if (definition is not null && string.IsNullOrWhiteSpace(definition.Owner))
        {
            aging.Add("it has no owner: add `owner:` so someone answers for it when it breaks");
        }

        var state = stale.Count > 0 ? FreshnessState.Stale : aging.Count > 0 ? FreshnessState.Aging : FreshnessState.Fresh;
        var evidence = new FreshnessEvidence(
            facts?.LastSuccessAt, facts?.LastPassingDrillAt, facts?.LastFailingDrillAt, facts?.LastAlertAt,
            string.IsNullOrWhiteSpace(definition?.Owner) ? null : definition.Owner, definition?.ReviewBy);
        return new RunbookFreshness(state, [.. stale, .. aging], evidence);
    }

    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    private static string Day(DateOnly day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Days(int days) => days == 1 ? "1 day" : $"{days} days";
}
