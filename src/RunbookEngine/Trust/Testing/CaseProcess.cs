using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Runs the test cases of a runbook folder in a process of their own (the host's executable with
/// <see cref="ChildCases.FolderKey"/>), for a pull request's check: without the host's settings and credentials in its
/// environment, with the memory limit of a run's process, and killed with everything it started when the cases take
/// longer than <see cref="GitHub.GitHubOptions.TestCasesTimeout"/> together. Cases finished before a timeout or a crash
/// are kept, and the case that was running is named.
/// </summary>
/// <remarks>
/// A process rather than <see cref="TestCaseRunner"/> in the host: the runner makes a scratch folder the process's
/// working directory while a case runs, which would move it under every run the host is serving, and a runbook under
/// test (a pull request's, so anyone's) could still call <c>Directory.SetCurrentDirectory</c>, exhaust memory or never
/// return.
/// </remarks>
public sealed partial class CaseProcess(IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<CaseProcess> logger)
{
    /// <summary>How a case's outcome is written on the child's standard output.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // One case's outcome with every failure message; anything longer is not one of ours.
    private const int MaxLineLength = 1024 * 1024;

    // Lines of the child's standard error kept to tell an out-of-memory death from another.
    private const int TailLines = 20;

    private static readonly TimeSpan ExitGrace = TimeSpan.FromSeconds(10);

    // Starts the child as the leader of a new session and process group (util-linux; Debian has it).
    private const string SetSid = "/usr/bin/setsid";

    // Signals a whole process group (procps).
    private const string KillCommand = "/bin/kill";

    /// <summary>The name of the child's data folder inside the runbook folder, before its random part.</summary>
    internal const string ScratchPrefix = ".runbook-cases-";

    /// <summary>Whether a case's path, as the process names it, is a case file of the runbook folder: <c>tests/RUNBOOK/CASE.yaml</c>.</summary>
    /// <param name="path">The path, relative to the runbook folder.</param>
    /// <returns>True when it names a file under <c>tests/</c> without <c>.</c> or <c>..</c>.</returns>
    internal static bool IsCasePath(string path) => CaseLines.IsCasePath(path);

    /// <summary>Runs every case of <paramref name="folder"/> (<c>tests/RUNBOOK/CASE.yaml</c>) and reports how each went.</summary>
    /// <param name="folder">The runbook folder, e.g. a pull request's head exported for its check.</param>
    /// <param name="cancellationToken">The host's shutdown: the process is killed and the token's exception thrown.</param>
    /// <returns>The cases, and why the rest did not finish if they did not; never throws for the cases' sake.</returns>
    public async Task<CaseRunReport> RunAsync(string folder, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        folder = Path.GetFullPath(folder);
        if (TestCaseRunner.FindCases(folder).Count == 0)
        {
            return new CaseRunReport([]);
        }

        var settings = options.Value;
        var timeout = settings.GitHub.TestCasesTimeout;
        var mark = Guid.NewGuid().ToString("N");

        // Its own data folder (compile cache, temporary files), named after export so the pull request cannot have
        // planted one, and never the host's: the runbooks under test must not reach the host's cache, store or keys.
        var scratch = Path.Combine(folder, ScratchPrefix + mark);
        Directory.CreateDirectory(Path.Combine(scratch, "tmp"));
        try
        {
            return await RunInAsync(settings, folder, scratch, mark, timeout, cancellationToken);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The export around it is deleted with the check.
            }
        }
    }

    private async Task<CaseRunReport> RunInAsync(RunbookEngineOptions settings, string folder, string scratch, string mark, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = new Process { StartInfo = StartInfo(settings, folder, scratch, mark) };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new CaseRunReport([], $"the test cases' process could not be started: {ex.Message}");
        }

        LogStarted(folder, process.Id, Durations.Format(timeout));
        try
        {
            return await ReportAsync(process, settings, folder, mark, timeout, cancellationToken);
        }
        finally
        {
            // Whatever the cases left behind in their session (a detached `sleep &`) goes with them, however they ended.
            Kill(process);
        }
    }

    private async Task<CaseRunReport> ReportAsync(Process process, RunbookEngineOptions settings, string folder, string mark, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // Standard input stays open and unused: the child takes its end as this host's, and stops.
        var tail = new Queue<string>();
        var draining = DrainAsync(process.StandardError, tail);
        var report = new CaseLines(mark);
        using var timer = new CancellationTokenSource(timeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);

        // Killing the process's session closes its standard output, which usually ends the read below; something that
        // left the session may still hold the pipe, so the read is abandoned at the timeout rather than awaited.
        using (stop.Token.Register(() => Kill(process)))
        {
            try
            {
                await foreach (var line in LinesAsync(process.StandardOutput, stop.Token))
                {
                    if (report.Read(line))
                    {
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                // The pipe is abandoned: what is still in it is not waited for.
            }
        }

        try
        {
            // Done or not, a process that does not end within the grace is killed: `done` is the process's word only.
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(ExitGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            Kill(process);
        }

        try
        {
            await draining.WaitAsync(ExitGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Something it started left its session and still holds a pipe open; stop listening.
        }

        cancellationToken.ThrowIfCancellationRequested();
        var exitCode = process.HasExited ? process.ExitCode : -1;
        var cases = report.Cases;
        var running = report.Running;
        LogEnded(folder, process.Id, exitCode, cases.Count, cases.Count(c => !c.Passed));
        if (report.Done)
        {
            return report.Finished();
        }

        var finished = string.Create(CultureInfo.InvariantCulture, $"{cases.Count} case{(cases.Count == 1 ? "" : "s")} finished before");
        var during = running is null ? "" : $" while {running} ran";
        if (timer.IsCancellationRequested)
        {
            return new CaseRunReport(cases, $"the test cases did not finish within {Durations.Format(timeout)} (RunbookEngine:GitHub:TestCasesTimeout), so their process was killed{during}; {finished}", Unfinished: running);
        }

        bool outOfMemory;
        lock (tail)
        {
            outOfMemory = tail.Any(l => l.Contains("OutOfMemory", StringComparison.Ordinal) || l.Contains("Out of memory", StringComparison.OrdinalIgnoreCase));
        }

        // The process's own words are not repeated: they are the pull request's code's, and the check is public.
        return new CaseRunReport(
            cases,
            outOfMemory
                ? $"the test cases' process ran out of memory{during} (its limit is {settings.Execution.ProcessMemoryLimitMiB} MiB, RunbookEngine:Execution:ProcessMemoryLimitMiB); {finished}"
                : string.Create(CultureInfo.InvariantCulture, $"the test cases' process exited with code {exitCode}{during} without reporting every case; {finished}"),
            Unfinished: running);
    }

    private static ProcessStartInfo StartInfo(RunbookEngineOptions settings, string folder, string scratch, string mark)
    {
        var start = ProcessExecution.HostStartInfo();

        // A session of its own, so that whatever the cases start, detached or not, is killed with it.
        if (File.Exists(SetSid))
        {
            start.ArgumentList.Insert(0, start.FileName);
            start.FileName = SetSid;
        }

        start.WorkingDirectory = folder;
        start.ArgumentList.Add($"--{ChildCases.FolderKey}={folder}");

        // Its whole configuration: the command line reads no appsettings and no environment (ChildCases.IsRequested).
        start.ArgumentList.Add($"--{RunbookEngineOptions.Section}:DataPath={scratch}");

        // Cases stub every secret, command and request, so the child needs none of the host's settings: none reach the
        // pull request's code, whatever they hold (tokens, the database, the GitHub App's key path).
        foreach (var name in start.Environment.Keys.Where(IsHidden).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment[ChildRun.ResultMarkVariable] = mark;
        start.Environment["TMPDIR"] = Path.Combine(scratch, "tmp");
        start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)settings.Execution.ProcessMemoryLimitMiB * 1024 * 1024).ToString("X", CultureInfo.InvariantCulture);
        return start;
    }

    private static bool IsHidden(string name)
    {
        var key = name.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();
        return key.StartsWith("RUNBOOKENGINE__", StringComparison.Ordinal)
            || key.StartsWith(EnvironmentSecretStore.Prefix, StringComparison.Ordinal)
            || key == ChildRun.TraceParentVariable
            || ProcessExecution.IsHostCredential(name);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // It exited between the check and the kill.
        }

        KillSession(process);
    }

    /// <summary>Kills the process group the child leads under <see cref="SetSid"/>: what left its tree but not its session.</summary>
    private static void KillSession(Process process)
    {
        int id;
        try
        {
            id = process.Id;
        }
        catch (InvalidOperationException)
        {
            return;
        }

        if (!File.Exists(SetSid) || !File.Exists(KillCommand))
        {
            return;
        }

        try
        {
            using var kill = Process.Start(new ProcessStartInfo(KillCommand)
            {
                ArgumentList = { "-KILL", "--", "-" + id.ToString(CultureInfo.InvariantCulture) },
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            });
            kill?.WaitForExit(5_000);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            // Without kill(1) the process tree was still killed above.
        }
    }

    private static async Task DrainAsync(StreamReader reader, Queue<string> tail)
    {
        await foreach (var line in LinesAsync(reader, CancellationToken.None))
        {
            lock (tail)
            {
                tail.Enqueue(line);
                if (tail.Count > TailLines)
                {
                    tail.Dequeue();
                }
            }
        }
    }

    /// <summary>Lines of at most <see cref="MaxLineLength"/> characters; the rest of a longer one is dropped.</summary>
    private static async IAsyncEnumerable<string> LinesAsync(StreamReader reader, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        int read;

        // A pipe read does not heed a token: the wait for it does, and the read is left behind.
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None).AsTask().WaitAsync(cancellationToken)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    yield return line.ToString().TrimEnd('\r');
                    line.Clear();
                }
                else if (line.Length < MaxLineLength)
                {
                    line.Append(buffer[i]);
                }
            }
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    [LoggerMessage(EventId = 627, Level = LogLevel.Information, Message = "Running the test cases of {Folder} in process {ProcessId} (at most {Timeout})")]
    private partial void LogStarted(string folder, int processId, string timeout);

    [LoggerMessage(EventId = 628, Level = LogLevel.Information, Message = "The test cases of {Folder} in process {ProcessId} ended with code {ExitCode}: {Cases} cases reported, {Failed} failed")]
    private partial void LogEnded(string folder, int processId, int exitCode, int cases, int failed);
}
