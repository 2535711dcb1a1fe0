namespace RunbookEngine.Sdk;

/// <summary>Thrown out of <c>Approve(...)</c> or <c>Manual(...)</c> when a person said no, or nobody answered in time.</summary>
public sealed class ApprovalRejectedException : RunbookFailedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Who refused, or why no answer came.</param>
    /// <param name="timedOut">Whether nobody answered in time, as opposed to a person saying no.</param>
    public ApprovalRejectedException(string message, bool timedOut = false) : base(message)
    {
        TimedOut = timedOut;
    }

    /// <summary>
    /// True when nobody answered in time. A runbook that should escalate rather than fail catches this case, pages
    /// someone in a step, and asks again (for example with a <c>role:</c> that only the escalation target holds).
    /// </summary>
    public bool TimedOut { get; }
}
