using Microsoft.Extensions.Logging;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk;

/// <summary>
/// The runbook's logger. Lines are redacted, tagged with the run and current step, and kept in the step's output.
/// It is also an <see cref="ILogger"/>, so libraries a runbook calls can log through it.
/// </summary>
public sealed class RunbookLog : ILogger
{
    private readonly RunbookContext _context;

    internal RunbookLog(RunbookContext context) => _context = context;

    /// <summary>Writes an informational line.</summary>
    /// <param name="message">The text.</param>
    public void Info(string message) => _context.WriteLog(LogLevel.Information, message);

    /// <summary>Writes a warning.</summary>
    /// <param name="message">The text.</param>
    public void Warn(string message) => _context.WriteLog(LogLevel.Warning, message);

    /// <summary>Writes an error line; this does not fail the run (throw <see cref="RunbookFailedException"/> for that).</summary>
    /// <param name="message">The text.</param>
    public void Error(string message) => _context.WriteLog(LogLevel.Error, message);

    /// <summary>Writes a debug line.</summary>
    /// <param name="message">The text.</param>
    public void Debug(string message) => _context.WriteLog(LogLevel.Debug, message);

    /// <inheritdoc />
    IDisposable? ILogger.BeginScope<TState>(TState state) => null;

    /// <inheritdoc />
    bool ILogger.IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

    /// <inheritdoc />
    void ILogger.Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        var message = formatter(state, exception);
        _context.WriteLog(logLevel, exception is null ? message : $"{message}: {exception.Message}");
    }
}
