using Microsoft.Extensions.Logging;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>Where a runbook's log lines go, already redacted: the terminal locally, Serilog in the host.</summary>
public interface IRunLogSink
{
    /// <summary>Writes one line.</summary>
    /// <param name="level">The line's level.</param>
    /// <param name="message">The redacted text.</param>
    /// <param name="stepName">The step the line belongs to, or null for run-level lines.</param>
    void Write(LogLevel level, string message, string? stepName);
}
