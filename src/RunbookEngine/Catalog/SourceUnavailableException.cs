namespace RunbookEngine.Catalog;

/// <summary>
/// The source cannot be read now (its API is down, or rate-limits this host); the catalog keeps serving what it has. A
/// source that backs off has logged the reason once already, so the catalog does not log it again on every poll.
/// </summary>
public sealed class SourceUnavailableException : IOException
{
    /// <summary>Creates the exception.</summary>
    public SourceUnavailableException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, and when the source is tried again.</param>
    public SourceUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why, and when the source is tried again.</param>
    /// <param name="inner">The cause.</param>
    public SourceUnavailableException(string message, Exception inner)
        : base(message, inner)
    {
    }

    /// <summary>Whether the source has logged this already (once for the whole backoff).</summary>
    public bool Logged { get; init; }
}
