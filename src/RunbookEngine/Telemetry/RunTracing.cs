using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;

namespace RunbookEngine.Telemetry;

/// <summary>
/// The engine's spans: a webhook's alerts being stored and matched, and each execution of a run. Every execution of a
/// run (first attempt, retries, resumes after a person answered, recovery on another node) joins one trace whose id
/// is derived from the run id, so a run's whole history is one trace however many processes it crossed.
/// </summary>
internal static class RunTracing
{
    /// <summary>The name to listen to (the SDK's step spans use the same one).</summary>
    public const string SourceName = TelemetryOptions.ActivitySourceName;

    /// <summary>The engine's spans; nothing is recorded unless the host listens.</summary>
    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>
    /// The trace id of a run. Run ids are 32 hex digits, exactly a W3C trace id, so the run id is the trace id and a
    /// trace can be found by the id the API, dashboard and logs show; any other id is hashed.
    /// </summary>
    /// <param name="runId">The run id.</param>
    /// <returns>The trace id every execution of the run shares.</returns>
    public static ActivityTraceId TraceIdOf(string runId)
    {
        if (runId.Length == 32 && runId.All(char.IsAsciiHexDigitLower) && runId.Any(c => c != '0'))
        {
            return ActivityTraceId.CreateFromString(runId);
        }

        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(runId));
        return ActivityTraceId.CreateFromBytes(hash.AsSpan(0, 16));
    }

    /// <summary>The current span as a W3C <c>traceparent</c>, to carry a request's trace to work done later; null when none.</summary>
    public static string? CurrentTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } id } ? id : null;

    /// <summary>A stored <c>traceparent</c> as a context; default when it is missing or malformed (a link is best effort).</summary>
    /// <param name="traceParent">The stored value.</param>
    /// <returns>The context.</returns>
    public static ActivityContext Parse(string? traceParent) =>
        traceParent is { Length: > 0 } && ActivityContext.TryParse(traceParent, null, isRemote: true, out var context) ? context : default;

    /// <summary>Starts the span of one execution of a run: a root in the run's trace, linked to whatever queued the run.</summary>
    /// <param name="run">The run.</param>
    /// <param name="recovering">Whether this execution recovers one a dead node left.</param>
    /// <returns>The span, or null when nobody listens.</returns>
    public static Activity? StartRun(RunRecord run, bool recovering)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // No parent span exists (each execution is a root), but the trace id must be the run's: a parent context with
        // the run's trace id and no span id gives exactly that, and the exporters write no parent for it.
        var runTrace = new ActivityContext(TraceIdOf(run.Id), default, ActivityTraceFlags.Recorded);
        var origin = Parse(run.TraceParent);
        ActivityLink[]? links = origin == default ? null : [new ActivityLink(origin)];
        var activity = Source.StartActivity($"run {run.Runbook}", ActivityKind.Internal, runTrace, null, links);
        activity?.SetTag("runbook.name", run.Runbook)
            .SetTag("runbook.version", run.ContentHash[..Math.Min(12, run.ContentHash.Length)])
            .SetTag("runbook.run.id", run.Id)
            .SetTag("runbook.run.attempt", run.Attempt)
            .SetTag("runbook.run.trigger", run.Trigger.ToString())
            .SetTag("runbook.run.recovering", recovering);
        return activity;
    }

    /// <summary>
    /// The span of a person's step answered while its run rested: no execution of the run is live to hold it, so it
    /// goes into the run's trace from when it was asked to the answer, linked to the request that answered it.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="step">The step as answered.</param>
    public static void HumanStepAnswered(RunRecord run, Sdk.StepOutcome step)
    {
        if (!Source.HasListeners())
        {
            return;
        }

        var runTrace = new ActivityContext(TraceIdOf(run.Id), default, ActivityTraceFlags.Recorded);
        ActivityLink[]? links = Activity.Current is { } answering ? [new ActivityLink(answering.Context)] : null;
        using var activity = Source.StartActivity(step.Name, ActivityKind.Internal, runTrace, null, links, step.StartedAt);
        activity?.SetTag("runbook.run.id", run.Id)
            .SetTag("runbook.name", run.Runbook)
            .SetTag("runbook.version", run.ContentHash[..Math.Min(12, run.ContentHash.Length)])
            .SetTag("runbook.step.sequence", step.Sequence)
            .SetTag("runbook.step.kind", step.Kind.ToString())
            .SetTag("runbook.step.status", step.Status.ToString())
            .SetTag("runbook.step.attempts", step.Attempts)
            .SetTag("runbook.step.actor", step.Actor);
        if (step.Status is Sdk.StepStatus.Failed or Sdk.StepStatus.TimedOut)
        {
            activity?.SetStatus(ActivityStatusCode.Error, step.Error);
        }

        if (step.FinishedAt is { } finished)
        {
            activity?.SetEndTime(finished.UtcDateTime);
        }
    }

    /// <summary>Records how this execution ended; a failed or timed-out execution is an error even when a retry follows.</summary>
    /// <param name="activity">The run's span.</param>
    /// <param name="status">How it ended.</param>
    /// <param name="error">Why, when it did not succeed.</param>
    public static void Ended(Activity? activity, RunStatus status, string? error)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("runbook.run.status", status.ToString());
        if (status is RunStatus.Failed or RunStatus.TimedOut)
        {
            activity.SetStatus(ActivityStatusCode.Error, error);
        }
        else if (status == RunStatus.WaitingForHuman)
        {
            activity.AddEvent(new ActivityEvent("waiting for a person"));
        }
        else if (error is not null)
        {
            activity.SetTag("runbook.run.reason", error);
        }
    }
}
