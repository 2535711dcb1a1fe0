using System.Diagnostics;
using System.Globalization;
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
        using var process = new Process { StartInfo = StartInfo(settings, folder, mark) };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return new CaseRunReport([], $"the test cases' process could not be started: {ex.Message}");
        }

        LogStarted(folder, process.Id, Durations.Format(timeout));

        // Standard input stays open and unused: the child takes its end as this host's, and stops.
        var tail = new Queue<string>();
        var draining = DrainAsync(process.StandardError, tail);
        var cases = new List<CaseOutcome>();
        string? running = null;
        var done = false;
        using var timer = new CancellationTokenSource(timeout, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, cancellationToken);

        // Killing the process tree closes its standard output, which ends the read below: a pipe read is not cancellable.
        using (stop.Token.Register(() => Kill(process)))
        {
            var prefix = mark + " ";
            await foreach (var line in LinesAsync(process.StandardOutput))
            {
                if (!line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                var rest = line[prefix.Length..];
                var space = rest.IndexOf(' ', StringComparison.Ordinal);
                var (kind, payload) = space < 0 ? (rest, "") : (rest[..space], rest[(space + 1)..]);
                switch (kind)
                {
                    case "case-start":
                        running = payload;
                        break;
                    case "case" when Parse(payload) is { } outcome:
                        cases.Add(outcome);
                        running = null;
                        break;
                    case "done":
                        done = true;
                        break;
                }
            }
        }

        if (!done)
        {
            Kill(process);
        }

        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(ExitGrace, time, CancellationToken.None);
            await draining.WaitAsync(ExitGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Something it started still holds a pipe open; its tree was killed, so stop listening.
        }

        cancellationToken.ThrowIfCancellationRequested();
        var exitCode = process.HasExited ? process.ExitCode : -1;
        LogEnded(folder, process.Id, exitCode, cases.Count, cases.Count(c => !c.Passed));
        if (done)
        {
            return new CaseRunReport(cases);
        }

        var during = running is null ? "" : $" while {running} ran";
        var finished = string.Create(CultureInfo.InvariantCulture, $"{cases.Count} case{(cases.Count == 1 ? "" : "s")} finished before");
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

    private static ProcessStartInfo StartInfo(RunbookEngineOptions settings, string folder, string mark)
    {
        var start = ProcessExecution.HostStartInfo();
        start.WorkingDirectory = folder;
        start.ArgumentList.Add($"--{ChildCases.FolderKey}={folder}");

        // Cases stub every secret, command and request, so the child needs none of the host's settings: none reach the
        // pull request's code, whatever they hold (tokens, the database, the GitHub App's key path).
        foreach (var name in start.Environment.Keys.Where(IsHidden).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment[ChildRun.ResultMarkVariable] = mark;
        start.Environment["RunbookEngine__DataPath"] = Path.GetFullPath(settings.DataPath);
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

    private static CaseOutcome? Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<CaseOutcome>(json, Json);
        }
        catch (JsonException)
        {
            return null;
        }
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
    }

    private static async Task DrainAsync(StreamReader reader, Queue<string> tail)
    {
        await foreach (var line in LinesAsync(reader))
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
    private static async IAsyncEnumerable<string> LinesAsync(StreamReader reader)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer, CancellationToken.None)) > 0)
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
