using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Storage;

namespace RunbookEngine.Toil;

/// <summary>How a toil report groups runs.</summary>
public enum ToilGrouping
{
    /// <summary>By runbook.</summary>
    Runbook,

    /// <summary>By ISO week (Monday to Sunday, UTC) of when the run was queued.</summary>
    Week,

    /// <summary>By the service label of the alert behind the run (<c>RunbookEngine:Toil:ServiceLabel</c>).</summary>
    Service,

    /// <summary>By the alert source, or how the run was started when no alert started it.</summary>
    Source,
}

/// <summary>The toil reports: savings and remaining human work over a window, and the alerts to automate next.</summary>
/// <param name="store">Runs and their figures.</param>
/// <param name="options">The toil settings.</param>
/// <param name="incidents">Incidents, for their medians; without it the report has none.</param>
public sealed class ToilReports(IToilStore store, IOptions<RunbookEngineOptions> options, IIncidentStore? incidents = null)
{
    /// <summary>The most incidents a report reads for its medians; beyond it, the newest ones in the window count.</summary>
    public const int MaxIncidents = 1000;

    /// <summary>Runs in the window, grouped, with a total.</summary>
    /// <param name="since">From (inclusive; runs by when they were queued).</param>
    /// <param name="until">To (exclusive).</param>
    /// <param name="grouping">How to group.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <param name="withIncidents">Whether to add the per-incident medians (a page showing two reports of one window needs them once).</param>
    /// <returns>The report.</returns>
    public async Task<ToilReport> ReportAsync(DateTimeOffset since, DateTimeOffset until, ToilGrouping grouping, CancellationToken cancellationToken, bool withIncidents = true)
    {
        var all = await store.ToilRunsAsync(since, until, cancellationToken);

        // A drill proves a runbook still works; it fixes nothing and saves nobody anything, so it stays out of every
        // group and total and is reported on its own.
        IReadOnlyList<ToilRun> runs = [.. all.Where(r => r.Trigger != Sdk.RunTrigger.Drill)];
        IReadOnlyList<ToilRun> drills = [.. all.Where(r => r.Trigger == Sdk.RunTrigger.Drill)];
        var label = options.Value.Toil.ServiceLabel;
        var groups = runs.GroupBy(run => KeyOf(run, grouping, label), StringComparer.Ordinal)
            .Select(g => Summarise(g.Key, [.. g]))
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        return new ToilReport(since, until, grouping.ToString().ToLowerInvariant(), groups, Summarise("total", runs), Drills(drills))
        {
            Incidents = withIncidents && incidents is not null ? await IncidentMediansAsync(incidents, since, until, cancellationToken) : null,
        };
    }

    /// <summary>The medians of the figures of the incidents opened in a window (README, "Incidents and postmortems").</summary>
    private static async Task<IncidentMedians> IncidentMediansAsync(IIncidentStore incidents, DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        // One set-based read for the whole window: a handful of queries however many incidents it holds.
        var figures = (await incidents.GetIncidentFiguresFactsAsync(since, until, MaxIncidents, cancellationToken)).Select(Incidents.IncidentFigures.Of).ToList();

        double? Median(Func<Incidents.IncidentFigures, TimeSpan?> figure) =>
            Percentile([.. figures.Select(figure).OfType<TimeSpan>().Select(t => t.TotalMinutes).Order()], 0.5);
        return new IncidentMedians(
            figures.Count,
            figures.Count(f => f.TimeToResolve is not null),
            Median(f => f.TimeToDetect),
            Median(f => f.TimeToFirstAction),
            Median(f => f.TimeToAcknowledge),
            Median(f => f.TimeToRemediate),
            Median(f => f.TimeToResolve),
            Percentile([.. figures.Select(f => f.HumanMinutes).Order()], 0.5),
            Percentile([.. figures.Select(f => f.AutomatedMinutes).Order()], 0.5));
    }

    /// <summary>
    /// Alert names that matched no runbook, ranked by count × the estimated minutes a person spends on each: what to
    /// automate next.
    /// </summary>
    /// <param name="since">From (inclusive; alerts by when they were received).</param>
    /// <param name="until">To (exclusive).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The ranking, costliest first.</returns>
    public async Task<IReadOnlyList<UnautomatedAlert>> UnautomatedAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var toil = options.Value.Toil;
        var counts = await store.UnautomatedAlertsAsync(since, until, cancellationToken);
        return [.. counts.GroupBy(c => c.Name, StringComparer.Ordinal)
            .Select(g =>
            {
                var each = toil.AlertMinutes.TryGetValue(g.Key, out var minutes) ? minutes : toil.UnautomatedAlertMinutes;
                var count = g.Sum(c => c.Count);
                return new UnautomatedAlert(g.Key, [.. g.Select(c => c.Source).Order(StringComparer.Ordinal)], count, each, Round(count * each),
                    g.Min(c => c.FirstSeen), g.Max(c => c.LastSeen));
            })
            .OrderByDescending(a => a.EstimatedMinutes)
            .ThenByDescending(a => a.Count)
            .ThenBy(a => a.Alert, StringComparer.Ordinal)
            .Select((a, i) => a with { Rank = i + 1 })];
    }

    private static ToilGroup Summarise(string key, IReadOnlyList<ToilRun> runs)
    {
        double baseline = 0, saved = 0, human = 0, automated = 0;
        var finished = 0;
        var succeeded = 0;
        var proposed = 0;
        foreach (var run in runs)
        {
            var acted = ToilCalculator.Acted(run.Trigger, run.Mode);
            var toil = run.Figures ?? ToilCalculator.ForRun(run.Status, run.StartedAt, run.FinishedAt, run.ManualMinutes, run.Steps, acted);
            baseline += run.Status == RunStatus.Succeeded && acted ? toil.BaselineMinutes : 0;
            saved += toil.SavedMinutes;
            human += toil.HumanMinutes;
            automated += toil.AutomatedMinutes;
            // A shadow run's proposal is neither a success nor a failure: it did what shadow mode allows.
            proposed += run.Status == RunStatus.Proposed ? 1 : 0;
            finished += IsTerminal(run.Status) && run.Status != RunStatus.Proposed ? 1 : 0;
            succeeded += run.Status == RunStatus.Succeeded ? 1 : 0;
        }

        // Per alert: its start to the end of the first run that succeeded for it (retries included).
        var alerts = runs.Where(r => r.Alert is not null).GroupBy(r => r.Alert!.Id).ToList();
        var remediate = alerts
            .Select(g => g.Where(r => r.Status == RunStatus.Succeeded && r.FinishedAt is not null).Select(r => (r.FinishedAt!.Value - g.First().Alert!.StartsAt).TotalMinutes).DefaultIfEmpty(double.NaN).Min())
            .Where(m => !double.IsNaN(m))
            .Order()
            .ToList();
        var resolve = alerts.Select(g => g.First().Alert!).Where(a => a.ResolvedAt is not null).Select(a => (a.ResolvedAt!.Value - a.StartsAt).TotalMinutes).Order().ToList();
        return new ToilGroup(
            key,
            runs.Count,
            succeeded,
            finished - succeeded,
            finished == 0 ? null : Round((double)succeeded / finished),
            Round(baseline),
            Round(saved),
            Round(human),
            Round(automated),
            alerts.Count,
            remediate.Count,
            Percentile(remediate, 0.5),
            Percentile(remediate, 0.9),
            Percentile(resolve, 0.5),
            proposed);
    }

    private static DrillToil Drills(IReadOnlyList<ToilRun> drills)
    {
        var figures = drills.Select(run => run.Figures ?? ToilCalculator.ForRun(run.Status, run.StartedAt, run.FinishedAt, run.ManualMinutes, run.Steps, acted: false)).ToList();
        return new DrillToil(
            drills.Count,
            drills.Count(r => r.Status == RunStatus.Proposed),
            drills.Count(r => IsTerminal(r.Status) && r.Status is not (RunStatus.Proposed or RunStatus.Succeeded)),
            Round(figures.Sum(f => f.AutomatedMinutes)),
            Round(figures.Sum(f => f.HumanMinutes)));
    }

    private static string KeyOf(ToilRun run, ToilGrouping grouping, string serviceLabel) => grouping switch
    {
        ToilGrouping.Week => $"{ISOWeek.GetYear(run.QueuedAt.UtcDateTime)}-W{ISOWeek.GetWeekOfYear(run.QueuedAt.UtcDateTime):00}",
        ToilGrouping.Service => run.Alert is { } alert && ServiceOf(alert.LabelsJson, serviceLabel) is { Length: > 0 } service ? service : "(none)",
        ToilGrouping.Source => run.Alert?.Source ?? run.Trigger.ToString().ToLowerInvariant(),
        _ => run.Runbook,
    };

    private static string? ServiceOf(string labelsJson, string label)
    {
        try
        {
            var labels = JsonSerializer.Deserialize<Dictionary<string, string>>(labelsJson);
            return labels?.GetValueOrDefault(label);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Nearest-rank percentile of sorted values: the smallest value with at least p of them at or below it.</summary>
    internal static double? Percentile(IReadOnlyList<double> sorted, double p) =>
        sorted.Count == 0 ? null : Round(sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)]);

    private static bool IsTerminal(RunStatus status) => Runs.RunStatuses.IsTerminal(status);

    private static double Round(double value) => Math.Round(value, 2, MidpointRounding.AwayFromZero);
}

/// <summary>A toil report.</summary>
/// <param name="From">From (inclusive).</param>
/// <param name="To">To (exclusive).</param>
/// <param name="GroupBy">runbook, week, service or source.</param>
/// <param name="Groups">One row per group, by key.</param>
/// <param name="Total">All runs in the window, drills excepted.</param>
/// <param name="Drills">The drills in the window, which save nothing and are in no group or total.</param>
public sealed record ToilReport(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<ToilGroup> Groups, ToilGroup Total, DrillToil Drills)
{
    /// <summary>The medians of the incidents opened in the window; null when not asked for.</summary>
    public IncidentMedians? Incidents { get; init; }
}

/// <summary>
/// Per-incident medians over the incidents opened in a report's window (at most <see cref="ToilReports.MaxIncidents"/>),
/// in minutes; a figure no incident has yet is null.
/// </summary>
/// <param name="Incidents">How many incidents.</param>
/// <param name="Closed">Of those, how many have closed.</param>
/// <param name="MedianMinutesToDetect">Median time to detect.</param>
/// <param name="MedianMinutesToFirstAction">Median time to first action, over incidents with a run.</param>
/// <param name="MedianMinutesToAcknowledge">Median time to acknowledge, over incidents a person acted on.</param>
/// <param name="MedianMinutesToRemediate">Median time to remediate, over incidents a run remediated.</param>
/// <param name="MedianMinutesToResolve">Median time to resolve, over closed incidents.</param>
/// <param name="MedianHumanMinutes">Median human minutes per incident.</param>
/// <param name="MedianAutomatedMinutes">Median automated minutes per incident.</param>
public sealed record IncidentMedians(
    int Incidents,
    int Closed,
    double? MedianMinutesToDetect,
    double? MedianMinutesToFirstAction,
    double? MedianMinutesToAcknowledge,
    double? MedianMinutesToRemediate,
    double? MedianMinutesToResolve,
    double? MedianHumanMinutes,
    double? MedianAutomatedMinutes);

/// <summary>Drills (runs with trigger <c>Drill</c>) in a report's window: what they cost, apart from the savings.</summary>
/// <param name="Runs">Drills queued in the window.</param>
/// <param name="Proposed">Of those, how many ended <c>Proposed</c>, as a drill of a working runbook does.</param>
/// <param name="Failed">How many ended failed, timed out or cancelled: the runbook no longer gets as far as its first action.</param>
/// <param name="AutomatedMinutes">Σ time the engine worked on them.</param>
/// <param name="HumanMinutes">Σ time people spent on them (a drill asks nobody, so normally 0).</param>
public sealed record DrillToil(int Runs, int Proposed, int Failed, double AutomatedMinutes, double HumanMinutes);

/// <summary>One group's figures; minutes are rounded to hundredths.</summary>
/// <param name="Key">The runbook, week (2026-W48), service or source.</param>
/// <param name="Runs">Runs queued in the window.</param>
/// <param name="Succeeded">Of those, how many succeeded.</param>
/// <param name="Failed">How many ended otherwise (failed, timed out, cancelled); a shadow run's proposal is not one.</param>
/// <param name="SuccessRate">Succeeded ÷ ended (proposals left out); null when none ended.</param>
/// <param name="BaselineMinutes">The baseline of the runs that succeeded: what they would have cost by hand.</param>
/// <param name="MinutesSaved">Σ saved minutes.</param>
/// <param name="HumanMinutes">Σ human minutes: what people still spent in Manual steps and approvals.</param>
/// <param name="AutomatedMinutes">Σ time the engine worked.</param>
/// <param name="Alerts">Distinct alerts behind the runs.</param>
/// <param name="AlertsRemediated">Of those, how many a run remediated (succeeded).</param>
/// <param name="MedianMinutesToRemediate">Median, alert start to the first successful run's end.</param>
/// <param name="P90MinutesToRemediate">90th percentile of the same.</param>
/// <param name="MedianMinutesToResolve">Median, alert start to its resolved notification.</param>
/// <param name="Proposed">Shadow runs that ended <c>Proposed</c>: they save nothing and count as neither succeeded nor failed.</param>
public sealed record ToilGroup(
    string Key,
    int Runs,
    int Succeeded,
    int Failed,
    double? SuccessRate,
    double BaselineMinutes,
    double MinutesSaved,
    double HumanMinutes,
    double AutomatedMinutes,
    int Alerts,
    int AlertsRemediated,
    double? MedianMinutesToRemediate,
    double? P90MinutesToRemediate,
    double? MedianMinutesToResolve,
    int Proposed = 0);

/// <summary>An alert name no runbook handles, and what it costs people.</summary>
/// <param name="Alert">The alert name.</param>
/// <param name="Sources">Where it came from.</param>
/// <param name="Count">How many times it fired in the window (resends not counted).</param>
/// <param name="MinutesEach">The estimated manual cost of one (<c>RunbookEngine:Toil</c>).</param>
/// <param name="EstimatedMinutes">Count × minutes each: the ranking.</param>
/// <param name="FirstSeen">First received in the window.</param>
/// <param name="LastSeen">Last received in the window.</param>
/// <param name="Rank">1 for what to automate first.</param>
public sealed record UnautomatedAlert(
    string Alert,
    IReadOnlyList<string> Sources,
    long Count,
    double MinutesEach,
    double EstimatedMinutes,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    int Rank = 0);
