namespace RunbookEngine.Slos;

/// <summary>A query Prometheus could not answer with one number: unreachable, an error, a timeout, or the wrong shape.</summary>
public sealed class PrometheusQueryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PrometheusQueryException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, for a person.</param>
    public PrometheusQueryException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong, for a person.</param>
    /// <param name="innerException">The cause.</param>
    public PrometheusQueryException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
