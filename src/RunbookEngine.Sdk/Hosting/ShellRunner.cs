using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace RunbookEngine.Sdk.Hosting;

/// <summary>Runs one process with an exact argument vector, capturing bounded output; kills the whole tree on timeout or cancel.</summary>
internal static class ShellRunner
{
    // How long to keep reading after the process exited: a background grandchild that inherited the pipes would hold them open forever.
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(2);

    public static async Task<ShellResult> RunAsync(
        IReadOnlyList<string> argv,
        string displayCommand,
        string? workingDirectory,
        IReadOnlyDictionary<string, string>? environment,
        Func<string, bool>? hidden,
        TimeSpan? timeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var startInfo = new ProcessStartInfo(argv[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? "",
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var argument in argv.Skip(1))
        {
            startInfo.ArgumentList.Add(argument);
        }

        // The process inherits the host's environment, and with it whatever configures the host; a tool that prints or
        // ships its environment must not carry the host's tokens off. What the runbook passes itself, it passes.
        if (hidden is not null)
        {
            foreach (var name in startInfo.Environment.Keys.Where(hidden).ToList())
            {
                startInfo.Environment.Remove(name);
            }
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[key] = value;
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var process = new Process { StartInfo = startInfo };
        var started = time.GetTimestamp();
        try
        {
            process.Start();
        }
        catch (Win32Exception ex)
        {
            throw new RunbookFailedException($"cannot start `{displayCommand}`: {ex.Message}", ex);
        }

        // Commands that read standard input get end-of-file instead of waiting for a person who is not there.
        process.StandardInput.Close();
        var stdout = new BoundedText();
        var stderr = new BoundedText();
        var readOut = PumpAsync(process.StandardOutput, stdout);
        var readErr = PumpAsync(process.StandardError, stderr);

        using var timeoutSource = timeout is { } limit ? new CancellationTokenSource(limit, time) : null;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeoutSource?.Token ?? CancellationToken.None);
        try
        {
            await process.WaitForExitAsync(linked.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            if (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException($"`{displayCommand}` was cancelled; its process tree was killed", null, cancellationToken);
            }

            throw new TimeoutException($"`{displayCommand}` did not finish within {Durations.Format(timeout!.Value)}; its process tree was killed");
        }

        try
        {
            await Task.WhenAll(readOut, readErr).WaitAsync(DrainGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Closing our ends stops the readers; the background process gets a broken pipe if it writes again.
            process.StandardOutput.Dispose();
            process.StandardError.Dispose();
            stderr.Append("\n[stopped reading: a background process still holds this command's output open]\n");
        }

        return new ShellResult(displayCommand, process.ExitCode, stdout.ToString(), stderr.ToString(), time.GetElapsedTime(started));
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the wait and the kill.
        }
    }

    private static async Task PumpAsync(StreamReader reader, BoundedText into)
    {
        var buffer = new char[8192];
        int read;
        while ((read = await reader.ReadAsync(buffer)) > 0)
        {
            into.Append(buffer.AsSpan(0, read));
        }
    }

    /// <summary>Keeps up to <see cref="ShellResult.MaxCapturedLength"/> characters and counts the rest.</summary>
    private sealed class BoundedText
    {
        private readonly Lock _gate = new();
        private readonly StringBuilder _text = new();
        private long _dropped;

        public void Append(ReadOnlySpan<char> chunk)
        {
            lock (_gate)
            {
                var room = ShellResult.MaxCapturedLength - _text.Length;
                if (room >= chunk.Length)
                {
                    _text.Append(chunk);
                    return;
                }

                _text.Append(chunk[..Math.Max(room, 0)]);
                _dropped += chunk.Length - Math.Max(room, 0);
            }
        }

        public override string ToString()
        {
            lock (_gate)
            {
                return _dropped == 0 ? _text.ToString() : $"{_text}\n[{_dropped:N0} more characters not captured]\n";
            }
        }
    }
}
