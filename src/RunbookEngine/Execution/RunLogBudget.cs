using Microsoft.Extensions.Logging;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Execution;

/// <summary>
/// Bounds what one run writes into the host's log: each line is cut at <see cref="ChildLogWriter.MaxLineLength"/>
/// characters, and after <see cref="Runs.ExecutionOptions.MaxLogCharactersPerRun"/> characters the run's further
/// lines are dropped from the host log with one warning. The steps' own output (head and tail) is unaffected, so a
/// runbook that writes megabytes cannot flood the log every other run shares.
/// </summary>
internal sealed class RunLogBudget(IRunLogSink inner, long maxCharacters) : IRunLogSink
{
    private long _written;
    private int _exhausted;

    /// <summary>A message cut to the longest line the host logs, saying how much was cut.</summary>
    public static string Cap(string message) =>
        message.Length <= ChildLogWriter.MaxLineLength
            ? message
            : $"{message[..ChildLogWriter.MaxLineLength]}… [{message.Length - ChildLogWriter.MaxLineLength:N0} characters cut]";

    public void Write(LogLevel level, string message, string? stepName)
    {
        var line = Cap(message);
        if (Interlocked.Add(ref _written, line.Length) <= maxCharacters)
        {
            inner.Write(level, line, stepName);
            return;
        }

        if (Interlocked.Exchange(ref _exhausted, 1) == 0)
        {
            inner.Write(LogLevel.Warning, $"the run has written more than {maxCharacters:N0} characters of log lines; the rest are not written to the host log (each step's output keeps its first and last 32 KiB)", stepName);
        }
    }
}
