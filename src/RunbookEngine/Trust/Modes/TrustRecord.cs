using RunbookEngine.Sdk;

namespace RunbookEngine.Trust.Modes;

/// <summary>What a runbook has earned: its mode, its record in shadow and confirm mode, and a suggestion once the record supports one.</summary>
/// <param name="Mode">The mode its front matter gives (<c>mode:</c>).</param>
/// <param name="Shadow">Its proposals and the verdicts on them.</param>
/// <param name="Confirm">The approvals confirm mode asked for.</param>
/// <param name="Suggestion">For example "20 proposals, 20 agreed: consider `confirm`"; null until the record supports one. Never acted on by the host.</param>
/// <param name="SuggestedMode">The mode suggested, when there is a suggestion.</param>
/// <param name="Latest">Its latest proposals, newest first (only on a single runbook's record).</param>
public sealed record TrustRecord(
    RunMode Mode,
    ShadowRecord Shadow,
    ConfirmRecord Confirm,
    string? Suggestion,
    RunMode? SuggestedMode,
    IReadOnlyList<ProposalEntry>? Latest = null);

/// <summary>A runbook's shadow runs that proposed something (drills left out).</summary>
/// <param name="Proposals">How many ended <c>Proposed</c>.</param>
/// <param name="Agreed">Judged "would have been right".</param>
/// <param name="Disagreed">Judged "would have been wrong".</param>
/// <param name="AwaitingVerdict">Not judged yet.</param>
/// <param name="AgreedInARow">Judged right since the last one judged wrong (by run order).</param>
public sealed record ShadowRecord(long Proposals, long Agreed, long Disagreed, long AwaitingVerdict, long AgreedInARow);

/// <summary>The approvals a runbook's confirm-mode runs asked for before their first side effect.</summary>
/// <param name="Approved">Given.</param>
/// <param name="Rejected">Refused (the run failed, nothing was changed).</param>
/// <param name="Waiting">Still waiting for a person.</param>
/// <param name="ApprovedInARow">Given since the last refusal (by run order).</param>
public sealed record ConfirmRecord(long Approved, long Rejected, long Waiting, long ApprovedInARow);

/// <summary>One proposal in a runbook's record.</summary>
/// <param name="RunId">The run that proposed it.</param>
/// <param name="QueuedAt">When the run was queued.</param>
/// <param name="Trigger">What started the run.</param>
/// <param name="Proposal">What it would have done.</param>
/// <param name="Verdict">A person's verdict, once given.</param>
public sealed record ProposalEntry(string RunId, DateTimeOffset QueuedAt, RunTrigger Trigger, RunProposal Proposal, Runs.RunVerdict? Verdict);
