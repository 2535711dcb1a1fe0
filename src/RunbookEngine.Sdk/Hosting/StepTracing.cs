using System.Diagnostics;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>
/// A span per step, a child of whatever span the host runs the script under. Created where the step runs, so anything
/// the step's code does (an HttpClient call) is a child of the step. Nothing is recorded unless the host listens.
/// </summary>
internal static class StepTracing
{
    // The engine's own spans use the same name, so a host listens to one source for webhooks, runs and steps.
    private static readonly ActivitySource Source = new("RunbookEngine");

    /// <summary>Starts the span of an automated step as the current span.</summary>
    public static Activity? Start(RunInfo run, StepOutcome outcome)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var activity = Source.StartActivity(outcome.Name);
        Describe(activity, run, outcome);
        return activity;
    }

    /// <summary>
    /// Ends a step's span with its outcome. A step with no live span (a person's step, answered while the run rested;
    /// one a dry run skipped) gets a span spanning its recorded start and end.
    /// </summary>
    public static void Finish(Activity? live, RunInfo run, StepOutcome outcome)
    {
        var activity = live;
        if (activity is null)
        {
            if (!Source.HasListeners())
            {
                return;
            }

            activity = Source.StartActivity(outcome.Name, ActivityKind.Internal, default(ActivityContext), startTime: outcome.StartedAt);
            Describe(activity, run, outcome);
        }

        if (activity is null)
        {
            return;
        }

        activity.SetTag("runbook.step.status", outcome.Status.ToString())
            .SetTag("runbook.step.attempts", outcome.Attempts);
        if (outcome.Actor is { Length: > 0 } actor)
        {
            activity.SetTag("runbook.step.actor", actor);
        }

        if (outcome.Status is StepStatus.Failed or StepStatus.TimedOut)
        {
            // Already redacted: a span never carries a secret the journal would not.
            activity.SetStatus(ActivityStatusCode.Error, outcome.Error);
        }

        if (outcome.FinishedAt is { } finished && live is null)
        {
            activity.SetEndTime(finished.UtcDateTime);
        }

        activity.Stop();
    }

    /// <summary>Notes on the live span that an attempt failed and another follows.</summary>
    public static void Retrying(Activity? live, int attempt, string error) =>
        live?.AddEvent(new ActivityEvent("retry", tags: new ActivityTagsCollection { ["runbook.step.attempt"] = attempt, ["runbook.step.error"] = error }));

    private static void Describe(Activity? activity, RunInfo run, StepOutcome outcome) =>
        activity?.SetTag("runbook.run.id", run.Id)
            .SetTag("runbook.name", run.Runbook)
            .SetTag("runbook.version", run.ContentHash[..Math.Min(12, run.ContentHash.Length)])
            .SetTag("runbook.step.sequence", outcome.Sequence)
            .SetTag("runbook.step.kind", outcome.Kind.ToString());
}
