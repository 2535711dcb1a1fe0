using System.Diagnostics;
using System.Text;

namespace RunbookEngine.TestSupport;

/// <summary>
/// The real host, started as its own process in a scratch folder on a free loopback port, so tests see what an
/// operator sees (and can kill it with SIGKILL). It is ready when it logs that the application started.
/// </summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private HostProcess(Process process, Uri address, string workingDirectory)
    {
        _process = process;
        Address = address;
        WorkingDirectory = workingDirectory;
    }

    /// <summary>Where the host answers.</summary>
    public Uri Address { get; }

    /// <summary>The host's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The host's working directory (runbooks/ and data/ live here).</summary>
    public string WorkingDirectory { get; }

    /// <summary>What the host has logged so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts a host and waits until it serves.</summary>
    /// <param name="workingDirectory">Its working directory, holding runbooks/.</param>
    /// <param name="settings">Configuration as environment variables, e.g. RUNBOOKENGINE__STORAGE=postgres.</param>
    /// <param name="hostDll">Another build of the host (a benchmark's baseline); by default the one beside this assembly.</param>
    /// <returns>The running host.</returns>
    public static async Task<HostProcess> StartAsync(string workingDirectory, IReadOnlyDictionary<string, string>? settings = null, string? hostDll = null)
    {
        ProcessReaper.Watch();
        var port = Loopback.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(hostDll ?? Path.Combine(AppContext.BaseDirectory, "RunbookEngine.Host.dll"));
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var host = new HostProcess(new Process { StartInfo = start, EnableRaisingEvents = true }, new Uri($"http://127.0.0.1:{port}"), workingDirectory);
        host._process.OutputDataReceived += (_, e) => host.Record(e.Data);
        host._process.ErrorDataReceived += (_, e) => host.Record(e.Data);
        host._process.Exited += (_, _) =>
        {
            // Exited can come before the last lines are read; waiting drains them, so the error shows why it stopped.
            host._process.WaitForExit();
            host._started.TrySetException(new InvalidOperationException($"the host exited before it started:\n{host.Log}"));
        };
        host._process.Start();
        try
        {
            host._process.BeginOutputReadLine();
            host._process.BeginErrorReadLine();
            await host._started.Task.WaitAsync(TimeSpan.FromMinutes(2));
            return host;
        }
        catch
        {
            // No caller holds a host that did not start, so nothing else would ever stop one that is only slow.
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>Asks the host to stop as a service manager would (SIGTERM) and waits for it to exit.</summary>
    /// <param name="timeout">How long to wait for the exit.</param>
    /// <returns>The exit code.</returns>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            await SignalAsync(_process.Id, "TERM");
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }

        return _process.ExitCode;
    }

    /// <summary>Sends the host a signal, as <c>kill -SIGNAL</c> does: STOP stalls it, CONT lets it go on.</summary>
    /// <param name="signal">The signal's name without SIG (TERM, STOP, CONT).</param>
    /// <returns>A task that completes when the signal was sent.</returns>
    public Task SignalAsync(string signal) => SignalAsync(_process.Id, signal);

    /// <summary>Sends a process a signal, as <c>kill -SIGNAL</c> does.</summary>
    /// <param name="pid">The process.</param>
    /// <param name="signal">The signal's name without SIG.</param>
    /// <returns>A task that completes when the signal was sent.</returns>
    /// <exception cref="InvalidOperationException">kill failed (no such process).</exception>
    public static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
        if (kill.ExitCode != 0)
        {
            throw new InvalidOperationException($"kill -{signal} {pid} exited with {kill.ExitCode}");
        }
    }

    /// <summary>Kills the host at once, as a crash would (SIGKILL).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }

        if (line.Contains("Application started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }
}
