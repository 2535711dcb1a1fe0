using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>
/// The people's side of Manual steps and approvals: who may answer, recording the answer exactly once, and waking the
/// run so it goes on (or fails) from its journal on whichever node takes it.
/// </summary>
public sealed partial class HumanSteps(IRunStore store, IRunDispatcher dispatcher, Toil.EngineMetrics metrics, IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<HumanSteps> logger)
{
    /// <summary>Completes (or rejects) a step that waits for a person.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The step's position in the run.</param>
    /// <param name="answer">Who answers, yes or no, an optional comment and when they picked the step up.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The step as recorded, or why the answer was refused.</returns>
    public async Task<HumanStepResult> AnswerAsync(string runId, int sequence, HumanResponse answer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var (run, step, problem) = await FindWaitingAsync(runId, sequence, answer.Actor, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (!MayAnswer(run!, step!, answer.Actor, out var refusal))
        {
            return new HumanStepResult(step, HumanStepProblem.Forbidden, refusal);
        }

        var now = time.GetUtcNow();
        if (answer.PickedUpAt is { } pickedUp && (pickedUp < step!.StartedAt || pickedUp > now))
        {
            return new HumanStepResult(step, HumanStepProblem.Invalid,
                $"pickedUpAt must lie between when the step was asked ({step.StartedAt:O}) and now ({now:O})");
        }

        var what = step!.Kind == StepKind.Approval ? "rejected" : "not done";
        var reason = answer.Approved ? null : $"{what} by {answer.Actor}{(answer.Comment is { Length: > 0 } c ? ": " + c : "")}";
        var recorded = await store.AnswerHumanStepAsync(runId, sequence, answer, reason, cancellationToken);
        if (!recorded.Answered)
        {
            return NotWaiting(recorded.Step ?? step);
        }

        using (Telemetry.RunLogScope.Begin(logger, run!, recorded.Step!.Name))
        {
            LogAnswered(runId, sequence, answer.Approved ? "completed" : "rejected", answer.Actor);
        }

        metrics.StepEnded(run!.Runbook, recorded.Step!);
        Telemetry.RunTracing.HumanStepAnswered(run, recorded.Step!);
        await dispatcher.WakeAsync(runId, null, cancellationToken);
        return new HumanStepResult(recorded.Step, HumanStepProblem.None, null);
    }

    /// <summary>Records that a person took a waiting step on; the human minutes it costs are counted from here.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The step's position in the run.</param>
    /// <param name="actor">Who takes it on.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The step, or why the pickup was refused.</returns>
    public async Task<HumanStepResult> PickUpAsync(string runId, int sequence, string actor, CancellationToken cancellationToken)
    {
        var (run, step, problem) = await FindWaitingAsync(runId, sequence, actor, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (!MayAnswer(run!, step!, actor, out var refusal))
        {
            return new HumanStepResult(step, HumanStepProblem.Forbidden, refusal);
        }

        var now = await store.PickUpHumanStepAsync(runId, sequence, actor, cancellationToken);
        return now is { Status: StepStatus.WaitingForHuman } ? new HumanStepResult(now, HumanStepProblem.None, null) : NotWaiting(now ?? step!);
    }

    private async Task<(RunRecord? Run, StepOutcome? Step, HumanStepResult? Problem)> FindWaitingAsync(string runId, int sequence, string actor, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            return (null, null, new HumanStepResult(null, HumanStepProblem.Invalid, "say who answers: \"by\" is required"));
        }

        var run = await store.GetRunAsync(runId, cancellationToken);
        var step = run is null ? null : await store.FindStepAsync(runId, sequence, cancellationToken);
        if (run is null || step is null)
        {
            return (run, step, new HumanStepResult(null, HumanStepProblem.NotFound, run is null ? $"no run '{runId}'" : $"run '{runId}' has no step {sequence}"));
        }

        if (step.Kind == StepKind.Automated)
        {
            return (run, step, new HumanStepResult(step, HumanStepProblem.NotHuman, $"step {sequence} '{step.Name}' is automated; only Manual steps and approvals take an answer"));
        }

        return step.Status == StepStatus.WaitingForHuman ? (run, step, null) : (run, step, NotWaiting(step));
    }

    private static HumanStepResult NotWaiting(StepOutcome step) => new(step, HumanStepProblem.NotWaiting, step.Status switch
    {
        StepStatus.Succeeded or StepStatus.Failed when step.Actor.Length > 0 =>
            $"step {step.Sequence} was already {(step.Status == StepStatus.Succeeded ? "completed" : "rejected")} by {step.Actor} at {step.FinishedAt:u}",
        _ => $"step {step.Sequence} no longer waits for a person: it is {step.Status}{(step.Error is { } e ? " (" + e + ")" : "")}",
    });

    private bool MayAnswer(RunRecord run, StepOutcome step, string actor, out string refusal)
    {
        if (step.Role is { Length: > 0 } role
            && !(options.Value.Roles.TryGetValue(role, out var people) && people.Contains(actor, StringComparer.OrdinalIgnoreCase)))
        {
            refusal = $"step {step.Sequence} needs someone with role '{role}'; {actor} does not hold it (RunbookEngine:Roles)";
            return false;
        }

        // Four eyes: the person who started the run by hand may not also approve it.
        if (step.DifferentPerson && run.Trigger is RunTrigger.Manual or RunTrigger.Retry
            && string.Equals(run.TriggeredBy, actor, StringComparison.OrdinalIgnoreCase))
        {
            refusal = $"step {step.Sequence} needs someone other than {run.TriggeredBy}, who started the run";
            return false;
        }

        refusal = "";
        return true;
    }

    [LoggerMessage(EventId = 120, Level = LogLevel.Information, Message = "Run {RunId} step {Sequence} {Answer} by {Actor}")]
    private partial void LogAnswered(string runId, int sequence, string answer, string actor);
}

/// <summary>What an answer to a human step did.</summary>
/// <param name="Step">The step as it stands.</param>
/// <param name="Problem">Why the answer was refused, or None.</param>
/// <param name="Message">The refusal, for the person.</param>
public sealed record HumanStepResult(StepOutcome? Step, HumanStepProblem Problem, string? Message);

/// <summary>Why an answer to a human step was refused.</summary>
public enum HumanStepProblem
{
    /// <summary>It was recorded.</summary>
    None,

    /// <summary>No such run or step.</summary>
    NotFound,

    /// <summary>The step is automated.</summary>
    NotHuman,

    /// <summary>The step was answered already, or ended.</summary>
    NotWaiting,

    /// <summary>This person may not answer it (role, or four eyes).</summary>
    Forbidden,

    /// <summary>The request is malformed.</summary>
    Invalid,
}
