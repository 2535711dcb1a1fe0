using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

/// <summary>The reads behind the toil reports and the <c>/metrics</c> gauges.</summary>
public interface IToilStore
{
    /// <summary>
    /// The runs queued in a window with what the toil arithmetic needs: their human steps and the steps that declare a
    /// manual estimate (other steps do not count), and the alert that started each. Runs retention has deleted come
    /// from their kept summaries, with <see cref="ToilRun.Figures"/> set; no run is returned twice.
    /// </summary>
    /// <param name="since">From this moment (inclusive).</param>
    /// <param name="until">To this moment (exclusive).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The runs, oldest first.</returns>
    Task<IReadOnlyList<ToilRun>> ToilRunsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>
    /// Firing alerts received in a window that matched no runbook, counted by name and source. Alerts retention has
    /// deleted are kept as counts per UTC day: a day counts when it begins inside the window.
    /// </summary>
    /// <param name="since">From this moment (inclusive).</param>
    /// <param name="until">To this moment (exclusive).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>One row per alert name and source.</returns>
    Task<IReadOnlyList<UnautomatedCount>> UnautomatedAlertsAsync(DateTimeOffset since, DateTimeOffset until, CancellationToken cancellationToken);

    /// <summary>How many runs are in each unfinished status now (queue depth, waiting for people).</summary>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>Counts by status; statuses with no runs are absent.</returns>
    Task<IReadOnlyDictionary<RunStatus, long>> ActiveRunCountsAsync(CancellationToken cancellationToken);
}

/// <summary>A run as the toil reports see it.</summary>
/// <param name="Id">The run id.</param>
/// <param name="Runbook">The runbook.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Trigger">What started it.</param>
/// <param name="QueuedAt">When it was recorded.</param>
/// <param name="StartedAt">When it first started.</param>
/// <param name="FinishedAt">When it ended.</param>
/// <param name="ManualMinutes">The declared baseline.</param>
/// <param name="Steps">Its human steps and the steps that declare an estimate.</param>
/// <param name="Alert">The alert that started it (or that the run it retries answered), if any.</param>
/// <param name="Figures">
/// For a run retention has deleted: its figures, computed from its journal before it went (<see cref="Steps"/> is then
/// empty). Null for a run still in the store, whose figures come from its steps.
/// </param>
public sealed record ToilRun(
    string Id,
    string Runbook,
    RunStatus Status,
    RunTrigger Trigger,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double? ManualMinutes,
    IReadOnlyList<StepOutcome> Steps,
    ToilAlert? Alert,
    Toil.RunToil? Figures = null,
    RunMode Mode = RunMode.Auto);

/// <summary>The alert behind a run, for time to remediate and grouping.</summary>
/// <param name="Id">Our id for it.</param>
/// <param name="Source">Where it came from.</param>
/// <param name="Name">Its name.</param>
/// <param name="StartsAt">When it started firing, by its source's clock.</param>
/// <param name="ResolvedAt">When its resolved notification arrived.</param>
/// <param name="LabelsJson">Its labels, JSON.</param>
public sealed record ToilAlert(string Id, string Source, string Name, DateTimeOffset StartsAt, DateTimeOffset? ResolvedAt, string LabelsJson);

/// <summary>Alerts of one name from one source that matched no runbook.</summary>
/// <param name="Name">The alert name.</param>
/// <param name="Source">The source.</param>
/// <param name="Count">How many (resends not counted).</param>
/// <param name="FirstSeen">The first received in the window.</param>
/// <param name="LastSeen">The last received in the window.</param>
public sealed record UnautomatedCount(string Name, string Source, long Count, DateTimeOffset FirstSeen, DateTimeOffset LastSeen);
