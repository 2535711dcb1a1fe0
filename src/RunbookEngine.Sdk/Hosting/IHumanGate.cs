namespace RunbookEngine.Sdk.Hosting;

/// <summary>How a host asks a person to do a manual step or approve one: a terminal prompt locally, a durable pause in the host.</summary>
public interface IHumanGate
{
    /// <summary>Asks a person and waits for the answer.</summary>
    /// <param name="request">What is asked.</param>
    /// <param name="cancellationToken">Cancelled when the run is cancelled or the wait times out.</param>
    /// <returns>The person's answer.</returns>
    Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken);
}

/// <summary>A question for a person.</summary>
/// <param name="RunId">The run asking.</param>
/// <param name="Sequence">The step's position in the run.</param>
/// <param name="Kind"><see cref="StepKind.Manual"/> (do this, then confirm) or <see cref="StepKind.Approval"/> (may the run go on?).</param>
/// <param name="Text">The instructions or the question.</param>
/// <param name="AskedAt">When the question was put (on a resumed run: when it was first put).</param>
/// <param name="Timeout">How long the runbook waits for an answer; null for as long as it takes.</param>
/// <param name="Role">The role the person who answers must hold, if any.</param>
/// <param name="DifferentPerson">Whether the person who answers must not be the one who started the run.</param>
public sealed record HumanRequest(
    string RunId,
    int Sequence,
    StepKind Kind,
    string Text,
    DateTimeOffset AskedAt,
    TimeSpan? Timeout = null,
    string? Role = null,
    bool DifferentPerson = false)
{
    /// <summary>When the wait times out; null when it never does.</summary>
    public DateTimeOffset? DueAt => AskedAt + Timeout;
}

/// <summary>
/// Thrown by a host's <see cref="IHumanGate"/> that does not hold a thread while a person decides: the run stops here,
/// WaitingForHuman, with the question journaled, and resumes from its journal once the question is answered or times
/// out. Runbooks must let it pass (a <c>catch (Exception)</c> around <c>Approve</c> would swallow the pause).
/// </summary>
public sealed class AwaitingHumanException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="request">The question the run waits on.</param>
    public AwaitingHumanException(HumanRequest request)
        : base($"waiting for a person at step {request?.Sequence}")
    {
        Request = request!;
    }

    /// <summary>The question the run waits on.</summary>
    public HumanRequest Request { get; }
}

/// <summary>A person's answer.</summary>
/// <param name="Approved">True when the step was done or approved; false when it was rejected.</param>
/// <param name="Actor">Who answered.</param>
/// <param name="Comment">What they wrote, if anything.</param>
/// <param name="PickedUpAt">When they took the step on, when known.</param>
public sealed record HumanResponse(bool Approved, string Actor, string? Comment = null, DateTimeOffset? PickedUpAt = null);
