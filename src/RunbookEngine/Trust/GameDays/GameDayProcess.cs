using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using RunbookEngine.Sdk;

namespace RunbookEngine.Trust.GameDays;

/// <summary>
/// Runs one of a game day's commands (<c>inject</c>, <c>verify</c>, <c>restore</c>) as a process: split like
/// <c>Shell()</c> with no shell in between, in the host's working directory, without the host's credentials in its
/// environment, standard input closed, and its whole tree killed when it is cancelled.
/// </summary>
internal static class GameDayProcess
{
    /// <summary>How much of a command's output is kept: its end, where the reason for a failure usually is.</summary>
    public const int MaxOutput = 4000;

    // How long to keep reading after the process exited: a background child (a restarted service) that inherited the
    // pipes would otherwise hold them open for as long as it lives.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(1);

    /// <summary>Runs <paramref name="commandLine"/> to its end.</summary>
    /// <param name="commandLine">The command as the front matter gives it.</param>
    /// <param name="cancellationToken">Kills the process tree and throws.</param>
    /// <returns>Its exit code and the end of its output (standard output and error as they came).</returns>
    public static async Task<(int ExitCode, string Output)> RunAsync(string commandLine, CancellationToken cancellationToken)
    {
        var argv = ShellCommand.Parse(commandLine).ToArgv();
        var start = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in argv.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        // The same rule as a runbook's Shell(): a command never sees the tokens and passwords that configure the host.
        foreach (var name in start.Environment.Keys.Where(Execution.ProcessExecution.IsHostCredential).ToList())
        {
            start.Environment.Remove(name);
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            return (127, $"cannot start `{argv[0]}`: {ex.Message}");
        }

        process.StandardInput.Close();
        var output = new Tail();
        var readOut = PumpAsync(process.StandardOutput, output);
        var readErr = PumpAsync(process.StandardError, output);
        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            try
            {
                process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It exited between the wait and the kill.
            }

            throw;
        }

        try
        {
            await Task.WhenAll(readOut, readErr).WaitAsync(DrainGrace, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            process.StandardOutput.Dispose();
            process.StandardError.Dispose();
        }

        return (process.ExitCode, output.ToString());
    }

    private static async Task PumpAsync(StreamReader reader, Tail into)
    {
        var buffer = new char[4096];
        try
        {
            int read;
            while ((read = await reader.ReadAsync(buffer)) > 0)
            {
                into.Append(buffer.AsSpan(0, read));
            }
        }
        catch (ObjectDisposedException)
        {
            // Closed after the drain grace: what was read is kept.
        }
    }

    /// <summary>The last <see cref="MaxOutput"/> characters written, whoever wrote them.</summary>
    private sealed class Tail
    {
        private readonly Lock _gate = new();
        private readonly StringBuilder _text = new();
        private bool _cut;

        public void Append(ReadOnlySpan<char> chunk)
        {
            lock (_gate)
            {
                _text.Append(chunk);
                if (_text.Length > MaxOutput * 2)
                {
                    _text.Remove(0, _text.Length - MaxOutput);
                    _cut = true;
                }
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                var text = _text.Length > MaxOutput ? _text.ToString(_text.Length - MaxOutput, MaxOutput) : _text.ToString();
                return (_cut || _text.Length > MaxOutput ? "[...]" : "") + text.TrimEnd();
            }
        }
    }
}
