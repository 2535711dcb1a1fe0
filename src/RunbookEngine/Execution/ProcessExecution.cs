using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;
using RunbookEngine.Toil;

namespace RunbookEngine.Execution;

/// <summary>
/// Runs a run in a process of its own (<c>isolation: process</c>): the host's own executable started with
/// <see cref="ChildRun.RunKey"/>, on the same store, with a memory limit. The child journals its steps and reports how
/// it ended; this side forwards its log lines, tells it about a cancel or a shutdown, kills its whole process tree at
/// the timeout (plus <see cref="Runs.ExecutionOptions.ProcessKillGrace"/>) or when it ignores the cancel, and closes
/// the steps a killed or crashed child left open. The caller then treats the result exactly as an in-process one.
/// </summary>
internal sealed partial class ProcessExecution(IOptions<RunbookEngineOptions> options, IRunStore store, EngineMetrics metrics, TimeProvider time, ILogger<ProcessExecution> logger)
{
    // A result line is a few hundred characters; a log line is capped by the child. Anything longer is cut, so a child
    // writing straight to its file descriptors cannot make this process buffer without bound.
    private const int MaxLineLength = 64 * 1024;

    private static readonly TimeSpan PipeDrainGrace = TimeSpan.FromSeconds(2);

    /// <summary>The run's log sink, bounded so one run cannot flood the host log.</summary>
    /// <param name="sink">Where the run's lines go.</param>
    /// <returns>The bounded sink.</returns>
    public IRunLogSink Bounded(IRunLogSink sink) => new RunLogBudget(sink, options.Value.Execution.MaxLogCharactersPerRun);

    /// <summary>Executes the request's run in a child process and waits for it to end.</summary>
    /// <param name="request">The run, as it would run in process (its journal and executor settings are the child's business).</param>
    /// <param name="cancellationToken">A person's cancel.</param>
    /// <returns>How it ended, with its journal as the store holds it, and the question it rests on, if any.</returns>
    public async Task<(RunResult Result, HumanRequest? Asked)> ExecuteAsync(RunRequest request, CancellationToken cancellationToken, string? claim = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var settings = options.Value;
        var grace = settings.Execution.ProcessKillGrace;
        var runId = request.Run.Id;
        var startedAt = time.GetUtcNow();
        var deadline = startedAt + request.Definition.Timeout;
        var redactor = ParentRedactor(request);
        var sink = request.LogSink ?? new NoSink();

        // Only the child knows this mark: a line on its standard output that does not carry it was written by something
        // the runbook started (a process inheriting the descriptor), not by the child reporting how the run ended.
        var mark = Guid.NewGuid().ToString("N");
        using var process = new Process { StartInfo = StartInfo(settings, runId, deadline, mark) };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return (await EndedAsync(request, RunStatus.Failed, $"the run's process could not be started: {ex.Message}", null, [], startedAt, claim), null);
        }

        LogChildStarted(runId, process.Id, settings.Execution.ProcessMemoryLimitMiB);
        var rawTail = new Queue<string>();
        var forwarding = ForwardLogAsync(process.StandardError, sink, redactor, rawTail);
        var reported = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var draining = ReadOutputAsync(process.StandardOutput, mark, reported, sink, redactor);

        using var killClock = new KillClock(deadline + grace, time);
        using var onCancel = cancellationToken.Register(() => Tell(process, "cancel", killClock, grace));
        using var onInterrupt = request.InterruptToken.Register(() => Tell(process, "interrupt", killClock, grace));

        ChildResult? result = null;
        try
        {
            result = Parse(await reported.Task.WaitAsync(killClock.Token));
        }
        catch (OperationCanceledException)
        {
            // The child did not report in time: it is killed below.
        }

        // A run cut short takes everything it started with it; a run that ended well may leave what it meant to start.
        if (result is null or { Status: RunStatus.TimedOut or RunStatus.Cancelled or RunStatus.Queued })
        {
            Kill(process);
        }

        try
        {
            await process.WaitForExitAsync(CancellationToken.None).WaitAsync(grace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            Kill(process);
            await process.WaitForExitAsync(CancellationToken.None);
        }

        try
        {
            await Task.WhenAll(forwarding, draining).WaitAsync(PipeDrainGrace, time, CancellationToken.None);
        }
        catch (TimeoutException)
        {
            // Something the child started still holds its standard output or error open; stop listening.
        }

        var exitCode = process.ExitCode;
        LogChildExited(runId, process.Id, exitCode);
        var (status, error) = result is { } r
            ? (r.Status, MemoryHint(r.Error, settings))
            : Unreported(exitCode, request, deadline, rawTail, settings, cancellationToken);
        var finished = result?.Finished ?? [];
        var ended = await EndedAsync(request, status, redactor.RedactOrNull(error), result?.Asked, finished, startedAt, claim);
        return (ended with { Proposal = result?.Proposal }, result?.Asked);
    }

    /// <summary>What a child that died without reporting means: killed for the timeout, a cancel or a shutdown, or crashed.</summary>
    private (RunStatus, string) Unreported(int exitCode, RunRequest request, DateTimeOffset deadline, Queue<string> rawTail, RunbookEngineOptions settings, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return (RunStatus.Cancelled, "the run was cancelled; its process was killed");
        }

        if (request.InterruptToken.IsCancellationRequested)
        {
            return (RunStatus.Queued, "the host shut down during the run; it goes back to the queue");
        }

        if (time.GetUtcNow() >= deadline)
        {
            return (RunStatus.TimedOut, $"the run did not finish within its timeout of {Durations.Format(request.Definition.Timeout)}; its process was killed");
        }

        string[] said;
        lock (rawTail)
        {
            said = [.. rawTail];
        }

        var last = said.LastOrDefault(line => line.Trim().Length > 0);
        if (said.Any(line => line.Contains("OutOfMemory", StringComparison.Ordinal) || line.Contains("Out of memory", StringComparison.OrdinalIgnoreCase)))
        {
            return (RunStatus.Failed, $"the run's process ran out of memory (its limit is {settings.Execution.ProcessMemoryLimitMiB} MiB, RunbookEngine:Execution:ProcessMemoryLimitMiB) and exited with code {exitCode}");
        }

        return (RunStatus.Failed, $"the run's process exited with code {exitCode} without reporting how the run ended{(last is null ? "" : ": " + last.Trim())}");
    }

    private static string? MemoryHint(string? error, RunbookEngineOptions settings) =>
        error is not null && error.Contains(nameof(OutOfMemoryException), StringComparison.Ordinal)
            ? $"{error} (the run's process may use {settings.Execution.ProcessMemoryLimitMiB} MiB, RunbookEngine:Execution:ProcessMemoryLimitMiB)"
            : error;

    /// <summary>
    /// Closes the steps the child left open (it was killed, or crashed), counts the steps the child finished, and reads
    /// the journal as it now stands.
    /// </summary>
    private async Task<RunResult> EndedAsync(RunRequest request, RunStatus status, string? error, HumanRequest? asked, IReadOnlyList<int> finished, DateTimeOffset startedAt, string? claim)
    {
        var runId = request.Run.Id;
        var steps = await store.GetStepsAsync(runId, CancellationToken.None);
        var closed = new List<int>();
        foreach (var open in steps.Where(step => !step.IsFinished && !(status == RunStatus.WaitingForHuman && step.Sequence == asked?.Sequence)))
        {
            var step = open with
            {
                Status = status switch
                {
                    RunStatus.TimedOut => StepStatus.TimedOut,
                    RunStatus.Queued => StepStatus.Interrupted,
                    RunStatus.Cancelled => StepStatus.Cancelled,
                    _ => StepStatus.Failed,
                },
                FinishedAt = time.GetUtcNow(),
                Error = status switch
                {
                    RunStatus.TimedOut => "the run reached its timeout while this step ran",
                    RunStatus.Queued => "the host shut down while this step ran; the run resumes on the next node",
                    RunStatus.Cancelled => "the run was cancelled while this step ran",
                    _ => "the run's process ended while this step ran",
                },
            };
            // Refused when another node took the run over: the step is its now.
            if (await store.SaveStepAsync(runId, step, claim, CancellationToken.None))
            {
                closed.Add(step.Sequence);
            }
        }

        if (closed.Count > 0)
        {
            steps = await store.GetStepsAsync(runId, CancellationToken.None);
        }

        foreach (var step in steps.Where(step => finished.Contains(step.Sequence) || closed.Contains(step.Sequence)))
        {
            metrics.StepEnded(request.Run.Runbook, step);
        }

        return new RunResult(status, error, steps, startedAt, time.GetUtcNow());
    }

    /// <summary>
    /// The host's own executable, to start in one of its child modes: standard input, output and error redirected, in
    /// this process's working directory, with its environment.
    /// </summary>
    /// <returns>The start info; the caller adds the mode's arguments.</returns>
    internal static ProcessStartInfo HostStartInfo()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("the host's executable is unknown");
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Environment.CurrentDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };

        // Started as `dotnet RunbookEngine.Host.dll`, the child must name the same entry assembly.
        if (string.Equals(Path.GetFileNameWithoutExtension(host), "dotnet", StringComparison.OrdinalIgnoreCase)
            && Assembly.GetEntryAssembly()?.Location is { Length: > 0 } entry)
        {
            start.ArgumentList.Add(entry);
        }

        return start;
    }

    private static ProcessStartInfo StartInfo(RunbookEngineOptions settings, string runId, DateTimeOffset deadline, string mark)
    {
        var start = HostStartInfo();
        start.ArgumentList.Add($"--{ChildRun.RunKey}={runId}");
        start.ArgumentList.Add($"--{ChildRun.DeadlineKey}={deadline.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");

        // The run's code has no business with the credentials of the host's API, webhooks, Git catalog or database: a
        // runbook that prints its environment, or a tool it starts, must not leak them. The child needs only the
        // connection string, set again below (and hidden from the commands it starts, like in process).
        foreach (var name in start.Environment.Keys.Where(IsHostCredential).ToList())
        {
            start.Environment.Remove(name);
        }

        start.Environment[ChildRun.ResultMarkVariable] = mark;
        if (Activity.Current is { IdFormat: ActivityIdFormat.W3C, Id: { } traceParent })
        {
            start.Environment[ChildRun.TraceParentVariable] = traceParent;
        }
        else
        {
            start.Environment.Remove(ChildRun.TraceParentVariable);
        }

        // The same store and data folder as this node, whatever set them here (the command line is not inherited).
        start.Environment["RunbookEngine__Storage"] = settings.Storage;
        start.Environment["RunbookEngine__DataPath"] = Path.GetFullPath(settings.DataPath);
        if (settings.ConnectionString is { Length: > 0 } connection)
        {
            start.Environment["RunbookEngine__ConnectionString"] = connection;
        }

        start.Environment["DOTNET_GCHeapHardLimit"] = "0x" + ((long)settings.Execution.ProcessMemoryLimitMiB * 1024 * 1024).ToString("X", CultureInfo.InvariantCulture);
        return start;
    }

    /// <summary>
    /// Whether an environment variable configures the host's credentials (any case, <c>__</c> or <c>:</c>). The one list
    /// of what a run's code never sees: a run's own process starts without them, and <c>Shell()</c> commands, in
    /// process or not, do too.
    /// </summary>
    /// <param name="name">The variable's name.</param>
    /// <returns>True when it is hidden from the run.</returns>
    public static bool IsHostCredential(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var key = name.Replace(":", "__", StringComparison.Ordinal).ToUpperInvariant();
        return key.StartsWith("RUNBOOKENGINE__ACCESS__", StringComparison.Ordinal)
            || key.StartsWith("RUNBOOKENGINE__ALERTS__SOURCES__", StringComparison.Ordinal)
            || key.StartsWith("RUNBOOKENGINE__NOTIFICATIONS__CHANNELS__", StringComparison.Ordinal)

            // The token, the webhook secret and the App's key and ids: with them a runbook could post checks or read the repository as the host.
            || key.StartsWith("RUNBOOKENGINE__GITHUB__", StringComparison.Ordinal)
            || key is "RUNBOOKENGINE__CATALOG__GIT__PASSWORD" or "RUNBOOKENGINE__CATALOG__GIT__USERNAME" or "RUNBOOKENGINE__CATALOG__GIT__WEBHOOKSECRET"
                or "RUNBOOKENGINE__CONNECTIONSTRING";
    }

    /// <summary>
    /// Masks in the child's raw output what the child itself could not: the run's secret parameters and every secret
    /// of the environment secret store (the child inherits them all).
    /// </summary>
    private static Redactor ParentRedactor(RunRequest request)
    {
        var redactor = new Redactor();
        foreach (var name in request.Parameters.Names.Where(request.Parameters.IsSecret))
        {
            redactor.Add(request.Parameters.Get<string>(name, ""));
        }

        foreach (var entry in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>())
        {
            if (entry.Key is string key && key.StartsWith(EnvironmentSecretStore.Prefix, StringComparison.Ordinal))
            {
                redactor.Add(entry.Value as string);
            }
        }

        return redactor;
    }

    private void Tell(Process process, string what, KillClock killClock, TimeSpan grace)
    {
        try
        {
            process.StandardInput.WriteLine(what);
            process.StandardInput.Flush();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The child has gone already.
        }

        LogTold(process.Id, what);
        killClock.NoLaterThan(time.GetUtcNow() + grace);
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the check and the kill.
        }
    }

    /// <summary>
    /// Reads the child's standard output to its end: the line with the run's mark is the result; any other line comes
    /// from something the runbook started on the inherited descriptor and goes to the run's log, masked. Reading on
    /// keeps such a process from blocking on a full pipe.
    /// </summary>
    private static async Task ReadOutputAsync(StreamReader reader, string mark, TaskCompletionSource<string?> reported, IRunLogSink sink, Redactor redactor)
    {
        var prefix = mark + " ";
        try
        {
            await foreach (var line in LinesAsync(reader))
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    reported.TrySetResult(line[prefix.Length..]);
                }
                else if (line.Length > 0)
                {
                    sink.Write(LogLevel.Information, redactor.Redact(line), null);
                }
            }
        }
        finally
        {
            reported.TrySetResult(null);
        }
    }

    private static ChildResult? Parse(string? line)
    {
        if (line is null)
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<ChildResult>(line, ChildResult.Json);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task ForwardLogAsync(StreamReader reader, IRunLogSink sink, Redactor redactor, Queue<string> rawTail)
    {
        await foreach (var line in LinesAsync(reader))
        {
            ChildLogLine? parsed = null;
            if (line.StartsWith('{'))
            {
                try
                {
                    parsed = JsonSerializer.Deserialize<ChildLogLine>(line, ChildResult.Json);
                }
                catch (JsonException)
                {
                    // Not one of ours: forwarded as it is, below.
                }
            }

            if (parsed is { Message: { } message })
            {
                sink.Write(parsed.Level, redactor.Redact(message), parsed.Step);
                continue;
            }

            // The runtime's own words (an unhandled exception, out of memory): kept for the run's error, and logged.
            var clean = redactor.Redact(line);
            lock (rawTail)
            {
                rawTail.Enqueue(clean);
                if (rawTail.Count > 20)
                {
                    rawTail.Dequeue();
                }
            }

            sink.Write(LogLevel.Warning, clean, null);
        }
    }

    /// <summary>Lines of at most <see cref="MaxLineLength"/> characters; the rest of a longer line is dropped.</summary>
    private static async IAsyncEnumerable<string> LinesAsync(StreamReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var buffer = new char[8192];
        var line = new StringBuilder();
        var dropping = false;
        int read;
        while ((read = await reader.ReadAsync(buffer, cancellationToken)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (buffer[i] == '\n')
                {
                    yield return line.ToString().TrimEnd('\r');
                    line.Clear();
                    dropping = false;
                }
                else if (line.Length < MaxLineLength)
                {
                    line.Append(buffer[i]);
                }
                else if (!dropping)
                {
                    dropping = true;
                    line.Append("… [cut]");
                }
            }
        }

        if (line.Length > 0)
        {
            yield return line.ToString();
        }
    }

    /// <summary>
    /// When the child is killed at the latest: the timeout plus the grace, brought forward by a cancel or a shutdown
    /// but never pushed back, so a cancel just before the kill does not buy the child another grace.
    /// </summary>
    private sealed class KillClock : IDisposable
    {
        private readonly CancellationTokenSource _source;
        private readonly TimeProvider _time;
        private DateTimeOffset _killAt;

        public KillClock(DateTimeOffset killAt, TimeProvider time)
        {
            _time = time;
            _killAt = killAt;
            _source = new CancellationTokenSource(Left(killAt), time);
        }

        public CancellationToken Token => _source.Token;

        public void NoLaterThan(DateTimeOffset killAt)
        {
            lock (_source)
            {
                if (killAt >= _killAt)
                {
                    return;
                }

                _killAt = killAt;
                try
                {
                    _source.CancelAfter(Left(killAt));
                }
                catch (ObjectDisposedException)
                {
                    // The child ended meanwhile.
                }
            }
        }

        public void Dispose()
        {
            lock (_source)
            {
                _source.Dispose();
            }
        }

        private TimeSpan Left(DateTimeOffset killAt) => killAt - _time.GetUtcNow() is { } left && left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private sealed class NoSink : IRunLogSink
    {
        public void Write(LogLevel level, string message, string? stepName)
        {
        }
    }

    [LoggerMessage(EventId = 220, Level = LogLevel.Information, Message = "Run {RunId} executes in process {ProcessId} (memory limit {LimitMiB} MiB)")]
    private partial void LogChildStarted(string runId, int processId, int limitMiB);

    [LoggerMessage(EventId = 221, Level = LogLevel.Information, Message = "Run {RunId}: process {ProcessId} exited with code {ExitCode}")]
    private partial void LogChildExited(string runId, int processId, int exitCode);

    [LoggerMessage(EventId = 222, Level = LogLevel.Information, Message = "Process {ProcessId} told to {What}")]
    private partial void LogTold(int processId, string what);
}
