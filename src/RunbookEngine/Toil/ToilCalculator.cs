using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Toil;

/// <summary>
/// The toil arithmetic, from a run's journal alone (README, "Measuring toil", defines each figure). Pure and
/// deterministic, so the API, the reports and <c>/metrics</c> cannot disagree.
/// </summary>
public static class ToilCalculator
{
    /// <summary>Computes one run's figures.</summary>
    /// <param name="status">The run's status; minutes are saved only by a run that succeeded.</param>
    /// <param name="startedAt">When its first execution started.</param>
    /// <param name="finishedAt">When it ended; null while it is not over.</param>
    /// <param name="baselineMinutes">The runbook's declared <c>manual_minutes</c> for the version that ran.</param>
    /// <param name="steps">The journal (a report may pass only human steps and steps with an estimate; nothing else counts).</param>
    /// <param name="acted">
    /// False for a run that could not act (a shadow run, a drill): it saves nobody work even when it succeeds, since all
    /// it did was look. See <see cref="Acted"/>.
    /// </param>
    /// <returns>The figures.</returns>
    public static RunToil ForRun(RunStatus status, DateTimeOffset? startedAt, DateTimeOffset? finishedAt, double? baselineMinutes, IEnumerable<StepOutcome> steps, bool acted = true)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var journal = steps.ToList();
        var human = 0.0;
        var waited = TimeSpan.Zero;
        foreach (var step in journal.Where(IsHuman))
        {
            human += HumanMinutes(step);
            waited += (step.FinishedAt ?? finishedAt ?? step.StartedAt) - step.StartedAt;
        }

        var declared = journal.Where(s => s.ManualMinutes is not null).Sum(s => s.ManualMinutes!.Value);
        var baseline = baselineMinutes ?? declared;
        var automated = startedAt is { } start && finishedAt is { } end ? Math.Max(0, (end - start - waited).TotalMinutes) : 0;
        var succeeded = status == RunStatus.Succeeded && acted;
        var perStep = succeeded
            ? journal.Where(s => s is { Kind: StepKind.Automated, Status: StepStatus.Succeeded, ManualMinutes: not null }).Select(s => new StepSaving(s.Sequence, s.Name, s.ManualMinutes!.Value)).ToList()
            : [];
        return new RunToil(baseline, automated, human, succeeded ? baseline - human : 0, perStep);
    }

    /// <summary>Whether a run could change anything: a drill or a shadow-mode run only looks.</summary>
    /// <param name="trigger">What started it.</param>
    /// <param name="mode">The mode it ran in.</param>
    /// <returns>False for a drill or a shadow run.</returns>
    public static bool Acted(RunTrigger trigger, RunMode mode) => trigger != RunTrigger.Drill && mode != RunMode.Shadow;

    /// <summary>
    /// Minutes a person spent on one human step: from pickup to completion where both are recorded, else the step's
    /// declared estimate if a person answered it, else nothing (a wait that timed out or was cancelled cost nobody work).
    /// </summary>
    /// <param name="step">A Manual step or an approval.</param>
    /// <returns>The minutes.</returns>
    public static double HumanMinutes(StepOutcome step)
    {
        ArgumentNullException.ThrowIfNull(step);
        if (!IsHuman(step))
        {
            return 0;
        }

        if (step.PickedUpAt is { } pickedUp && step.FinishedAt is { } finished)
        {
            return Math.Max(0, (finished - pickedUp).TotalMinutes);
        }

        var answered = step.Status is StepStatus.Succeeded or StepStatus.Failed && step.Actor.Length > 0 && step.Actor != StepOutcome.MachineActor;
        return answered ? step.ManualMinutes ?? 0 : 0;
    }

    /// <summary>Whether a person does the step.</summary>
    /// <param name="step">The step.</param>
    /// <returns>True for Manual steps and approvals.</returns>
    public static bool IsHuman(StepOutcome step) => step?.Kind is StepKind.Manual or StepKind.Approval;
}

/// <summary>One run's toil figures, in minutes.</summary>
/// <param name="BaselineMinutes">What the run would cost a person by hand: the runbook's <c>manual_minutes</c>, else the sum of its steps' declared estimates.</param>
/// <param name="AutomatedMinutes">How long the engine worked: start to end, less the time spent waiting for people.</param>
/// <param name="HumanMinutes">Time people spent on its Manual steps and approvals.</param>
/// <param name="SavedMinutes">Baseline less human minutes when the run succeeded; zero otherwise.</param>
/// <param name="Steps">For a run that succeeded: the automated steps that declared an estimate, so savings can be attributed per step.</param>
public sealed record RunToil(double BaselineMinutes, double AutomatedMinutes, double HumanMinutes, double SavedMinutes, IReadOnlyList<StepSaving> Steps);

/// <summary>An automated step's share of a run's savings: its declared manual estimate.</summary>
/// <param name="Sequence">The step's position.</param>
/// <param name="Name">The step's name.</param>
/// <param name="Minutes">Its declared estimate.</param>
public sealed record StepSaving(int Sequence, string Name, double Minutes);
