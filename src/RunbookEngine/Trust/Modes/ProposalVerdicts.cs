using Microsoft.Extensions.Logging;
using RunbookEngine.Runs;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.Modes;

/// <summary>People's verdicts on what shadow runs proposed: the record that earns a runbook confirm mode.</summary>
public sealed partial class ProposalVerdicts(IRunStore runs, ITrustStore store, TimeProvider time, ILogger<ProposalVerdicts> logger)
{
    /// <summary>The longest comment kept with a verdict.</summary>
    public const int MaxComment = 2000;

    /// <summary>Records a verdict on a <c>Proposed</c> run; a later verdict replaces an earlier one.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="right">Whether doing what it proposed would have been right.</param>
    /// <param name="by">Who says so.</param>
    /// <param name="comment">Why, if they say.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The run with its verdict, or why the verdict was refused.</returns>
    public async Task<VerdictResult> RecordAsync(string runId, bool right, string by, string? comment, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(by))
        {
            return new VerdictResult(null, VerdictProblem.Invalid, "say who gives the verdict: \"by\" is required");
        }

        comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim();
        if (comment?.Length > MaxComment)
        {
            return new VerdictResult(null, VerdictProblem.Invalid, $"the comment is {comment.Length} characters; keep it to {MaxComment}");
        }

        var verdict = new RunVerdict(right, by.Trim(), comment, time.GetUtcNow());
        if (!await store.RecordVerdictAsync(runId, verdict, cancellationToken))
        {
            return await runs.GetRunAsync(runId, cancellationToken) is { } run
                ? new VerdictResult(run, VerdictProblem.NotProposed,
                    $"run '{runId}' is {run.Status}, not Proposed: only a shadow run that stopped before a side effect takes a verdict{(run.Mode == Sdk.RunMode.Shadow && !run.IsTerminal ? " (this one has not finished yet)" : "")}")
                : new VerdictResult(null, VerdictProblem.NotFound, $"no run '{runId}'");
        }

        LogVerdict(runId, right ? "right" : "wrong", verdict.By);
        return new VerdictResult(await runs.GetRunAsync(runId, cancellationToken), VerdictProblem.None, null);
    }

    [LoggerMessage(EventId = 1410, Level = LogLevel.Information, Message = "Run {RunId}: its proposal judged {Verdict} by {Actor}")]
    private partial void LogVerdict(string runId, string verdict, string actor);
}

/// <summary>What recording a verdict did.</summary>
/// <param name="Run">The run as it stands.</param>
/// <param name="Problem">Why the verdict was refused, or None.</param>
/// <param name="Message">The refusal, for the person.</param>
public sealed record VerdictResult(RunRecord? Run, VerdictProblem Problem, string? Message);

/// <summary>Why a verdict was refused.</summary>
public enum VerdictProblem
{
    /// <summary>It was recorded.</summary>
    None,

    /// <summary>No such run.</summary>
    NotFound,

    /// <summary>The run did not end <c>Proposed</c>.</summary>
    NotProposed,

    /// <summary>The request is malformed.</summary>
    Invalid,
}
