namespace RunbookEngine.Sdk;

/// <summary>What a shadow run would have done at the point it stopped: the first step, command or request that changes something.</summary>
/// <param name="Step">The step that would have acted (its name in the timeline), or the command when none was running.</param>
/// <param name="Description">What the step is for, from its <c>description:</c>; null when it gave none.</param>
/// <param name="Action">What would have acted: <c>step</c> (a step declared <c>sideEffects</c>), <c>command</c>, <c>http</c> or <c>manual</c>.</param>
/// <param name="Detail">The command line, the request (<c>POST https://…</c>) or the instructions; null for a step.</param>
/// <param name="Parameters">The run's parameters as bound, secrets masked.</param>
public sealed record RunProposal(
    string Step,
    string? Description,
    string Action,
    string? Detail,
    IReadOnlyDictionary<string, string> Parameters);

/// <summary>
/// Thrown where a shadow run stops: the run ends <c>Proposed</c> with <see cref="Proposal"/>. A script that catches it
/// gains nothing: everything else that would change something is refused the same way.
/// </summary>
public sealed class RunProposedException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="proposal">What the run would have done.</param>
    public RunProposedException(RunProposal proposal)
        : base($"shadow mode: proposed, not done: {proposal.Action} '{proposal.Step}'{(proposal.Detail is null ? "" : $" ({proposal.Detail})")}")
    {
        Proposal = proposal;
    }

    /// <summary>What the run would have done.</summary>
    public RunProposal Proposal { get; }
}
