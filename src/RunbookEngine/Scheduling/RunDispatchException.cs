namespace RunbookEngine.Scheduling;

/// <summary>
/// The scheduler refused a dispatch whose caller has another way out (the watchdog, or a run already ended in the
/// store), so the caller can say so without knowing which scheduler it was.
/// </summary>
public sealed class RunDispatchException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RunDispatchException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the scheduler refused.</param>
    public RunDispatchException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why the scheduler refused.</param>
    /// <param name="innerException">The scheduler's own exception.</param>
    public RunDispatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
