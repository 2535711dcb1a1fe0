namespace RunbookEngine.Sdk;

/// <summary>Thrown out of <c>Approve(...)</c> or <c>Manual(...)</c> when a person said no, or nobody answered in time.</summary>
public sealed class ApprovalRejectedException : RunbookFailedException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">Who refused, or why no answer came.</param>
    public ApprovalRejectedException(string message) : base(message) { }
}
