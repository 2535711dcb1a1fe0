namespace RunbookEngine.Sdk;

/// <summary>Thrown by a runbook to fail its run with a message a person can act on.</summary>
public class RunbookFailedException : Exception
{
    /// <summary>Creates the exception with no message.</summary>
    public RunbookFailedException() { }

    /// <summary>Creates the exception with the reason the run failed.</summary>
    /// <param name="message">Why the run failed.</param>
    public RunbookFailedException(string message) : base(message) { }

    /// <summary>Creates the exception with the reason the run failed and its cause.</summary>
    /// <param name="message">Why the run failed.</param>
    /// <param name="innerException">What caused it.</param>
    public RunbookFailedException(string message, Exception innerException) : base(message, innerException) { }
}
