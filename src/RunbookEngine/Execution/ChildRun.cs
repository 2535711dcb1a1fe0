using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RunbookEngine.Access;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;

namespace RunbookEngine.Execution;

/// <summary>
/// The host started as the process of one run (<c>--execute-run=ID --execute-deadline=MS</c>, for runbooks with
/// <c>isolation: process</c>): it opens the same store, resolves the run's exact version through the version store
/// and the compile cache, runs it with the store as its journal, and reports how it ended as one JSON line on standard
/// output. Its log lines go to standard error as JSON lines for the parent to forward. The parent writes
/// <c>cancel</c> or <c>interrupt</c> on standard input; when standard input closes the parent has gone, and so does
/// this process at once, as its node would have.
/// </summary>
public static class ChildRun
{
    /// <summary>The configuration key (command line <c>--execute-run=ID</c>) that starts the host in this mode.</summary>
    public const string RunKey = "execute-run";

    /// <summary>The configuration key carrying the run's deadline, in Unix milliseconds.</summary>
    public const string DeadlineKey = "execute-deadline";

    /// <summary>
    /// The environment variable carrying the mark that starts the result line, so the parent tells it from lines that
    /// a process the runbook started writes to the same standard output.
    /// </summary>
    public const string ResultMarkVariable = "RUNBOOKENGINE_RESULT_MARK";

    /// <summary>The environment variable carrying the parent's run span (W3C <c>traceparent</c>), so the steps join the run's trace.</summary>
    public const string TraceParentVariable = "RUNBOOKENGINE_TRACEPARENT";

    /// <summary>Exit code when the parent went away and the run was abandoned mid-way, as a node crash would.</summary>
    public const int ParentGoneExitCode = 3;

    /// <summary>Executes the run and returns the process exit code; call <see cref="Environment.Exit"/> with it.</summary>
    /// <param name="configuration">The host's configuration, with <see cref="RunKey"/> and <see cref="DeadlineKey"/>.</param>
    /// <param name="flushTraces">Exports the spans recorded so far; called before the result is reported, since the
    /// parent may kill this process as soon as it has the result.</param>
    /// <returns>0 when a result was reported.</returns>
    public static async Task<int> MainAsync(IConfiguration configuration, Action? flushTraces = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var mark = Environment.GetEnvironmentVariable(ResultMarkVariable) ?? "";
        var traceParent = Environment.GetEnvironmentVariable(TraceParentVariable);

        // The processes the runbook starts inherit the environment: they must not be able to forge the result line.
        Environment.SetEnvironmentVariable(ResultMarkVariable, null);
        Environment.SetEnvironmentVariable(TraceParentVariable, null);
        var report = new Reporter(new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)), mark, flushTraces);
        using var lines = new ChildLogWriter(Console.OpenStandardError());
        var redactor = new Redactor();

        // Whatever the runbook writes to the console becomes log lines of the run, masked like the others; standard
        // output stays free for the one result line.
        Console.SetOut(new ConsoleLines(lines, LogLevel.Information, redactor));
        Console.SetError(new ConsoleLines(lines, LogLevel.Warning, redactor));
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            // A thread the runbook started threw: the process is going down, so say why before it does.
            var error = redactor.Redact($"the runbook crashed its process: {Describe(e.ExceptionObject as Exception)}");
            Report(report, new ChildResult(RunStatus.Failed, error, null, []));
            Environment.Exit(1);
        };

        // A service manager stopping the host signals its whole process group: the host decides when this run stops
        // (it writes interrupt after its shutdown grace, then kills), so the signal itself is ignored here.
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, signal => signal.Cancel = true);
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, signal => signal.Cancel = true);
        using var cancel = new CancellationTokenSource();
        using var interrupt = new CancellationTokenSource();
        _ = Task.Run(() => ListenToParent(cancel, interrupt), CancellationToken.None);

        var runId = configuration[RunKey]!;
        var deadline = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(configuration[DeadlineKey] ?? "0", CultureInfo.InvariantCulture));
        var options = configuration.GetSection(RunbookEngineOptions.Section).Get<RunbookEngineOptions>() ?? new RunbookEngineOptions();
        var time = TimeProvider.System;
        await using var store = options.UsesPostgres ? SqlRunStore.Postgres(options.ConnectionString!, time) : SqlRunStore.Sqlite(Path.Combine(options.DataPath, "runs.db"), time);
        ChildResult result;
        try
        {
            result = await ExecuteAsync(store, options, runId, deadline, redactor, lines, time, (cancel.Token, interrupt.Token), traceParent);
        }
        catch (Exception ex)
        {
            // The executor never throws for the script's sake: this is the store or the version, before the runbook ran.
            result = new ChildResult(RunStatus.Failed, $"the run's process could not run it: {Describe(ex)}", null, []);
        }

        Report(report, result with { Error = redactor.RedactOrNull(result.Error) });
        if (result.Status is RunStatus.TimedOut or RunStatus.Cancelled or RunStatus.Queued)
        {
            // The parent now kills this process's whole tree, taking along whatever the runbook started and a thread
            // that ignores its token; exiting first would orphan those.
            await Task.Delay(TimeSpan.FromMinutes(1), CancellationToken.None);
        }

        return 0;
    }

    private static async Task<ChildResult> ExecuteAsync(
        SqlRunStore store, RunbookEngineOptions options, string runId, DateTimeOffset deadline, Redactor redactor, ChildLogWriter lines,
        TimeProvider time, (CancellationToken Cancel, CancellationToken Interrupt) tokens, string? traceParent)
    {
        var (cancel, interrupt) = tokens;

        // A store that blinks as the process starts is waited for, as the host waits for it mid-run; the waits are
        // logged under the run.
        var retry = new StoreRetry(store, time, new RunLogger<StoreRetry>(lines));
        var run = await retry.RunAsync($"run {runId}", ct => store.GetRunAsync(runId, ct), interrupt);
        if (run is not { Status: RunStatus.Running })
        {
            return new ChildResult(RunStatus.Failed, $"run {runId} is not running (it is {run?.Status.ToString() ?? "unknown"})", null, []);
        }

        using var compiler = new RunbookCompiler(Path.Combine(options.DataPath, "compiled"));
        using var catalog = new RunbookCatalog(new NoSource(), compiler, store, options.DataPath, time, NullLogger<RunbookCatalog>.Instance);
        using var attempt = await RunAttempt.PrepareAsync(run, catalog, store, SecretsOf(store, options), retry, interrupt, interrupt);
        if (attempt is not { Definition: { } definition, Compiled: { } compiled, Parameters: { } parameters, Alert: var alert })
        {
            return new ChildResult(RunStatus.Failed, attempt.Error, null, []);
        }

        // The steps' spans are children of this one, itself a child of the parent's span of the run: one trace.
        using var activity = Telemetry.RunTracing.Parse(traceParent) is var parent && parent != default
            ? Telemetry.RunTracing.Source.StartActivity($"execute {run.Runbook} in process", System.Diagnostics.ActivityKind.Internal, parent)
                ?.SetTag("runbook.name", run.Runbook).SetTag("runbook.run.id", run.Id).SetTag("process.pid", Environment.ProcessId)
            : null;
        // Fenced by the parent's claim, read as the process starts: should another node take the run over, this process's
        // writes are refused as the parent's would be.
        using var claim = run.Execution is { } token ? new Scheduling.RunClaim(run.Id, token, CancellationToken.None) : null;
        var journal = new FinishedSteps(new StoreJournal(store, retry, run.Id, run.Runbook, new Toil.EngineMetrics(), interrupt, claim));
        var gate = new RestingHumanGate();
        var calls = new Trust.Testing.StoreCallRecorder(run.Id, run.Attempt, time);
        var result = await RunbookExecutor.ExecuteAsync(
            new RunRequest
            {
                Runbook = compiled,
                Definition = definition,
                Run = new RunInfo(run.Id, run.Runbook, run.Attempt, run.Trigger, run.TriggeredBy, run.Commit, run.ContentHash, false, Trust.RunModes.For(definition, run.Trigger, run.BudgetGate)),
                Confirm = Trust.RunModes.ConfirmFor(definition, run.BudgetGate),
                Parameters = parameters,
                Alert = alert,
                Journal = journal,
                LogSink = lines,
                Redactor = redactor,
                Time = time,
                Timeout = deadline - time.GetUtcNow(),
                InterruptToken = interrupt,
                HumanGate = gate,
                HiddenFromCommands = ProcessExecution.IsHostCredential,
                Calls = calls,
            },
            cancel);

        // Before the result line: the parent may kill this process as soon as it has read it.
        try
        {
            await calls.FlushAsync(store, run.Execution, interrupt);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            lines.Write(LogLevel.Warning, $"the results of the run's commands and HTTP calls were not kept, so no test case can be recorded from it ({ex.Message})", null);
        }

        return new ChildResult(result.Status, result.Error, result.Status == RunStatus.WaitingForHuman ? gate.Asked : null, journal.Finished, result.Proposal);
    }

    private static void ListenToParent(CancellationTokenSource cancel, CancellationTokenSource interrupt)
    {
        using var input = new StreamReader(Console.OpenStandardInput());
        while (input.ReadLine() is { } line)
        {
            switch (line.Trim())
            {
                case "cancel":
                    cancel.Cancel();
                    break;
                case "interrupt":
                    interrupt.Cancel();
                    break;
            }
        }

        // The parent is gone (killed, crashed): whoever recovers the run replays its journal, so stop here, as the
        // run would have stopped with its node.
        Environment.Exit(ParentGoneExitCode);
    }

    private static void Report(Reporter report, ChildResult result) => report.Report(result);

    /// <summary>Writes the one result line, marked, after the spans have left.</summary>
    private sealed class Reporter(StreamWriter output, string mark, Action? flushTraces)
    {
        public void Report(ChildResult result)
        {
            lock (output)
            {
                try
                {
                    flushTraces?.Invoke();
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // Traces are best effort; the result is not.
                }

                output.WriteLine(mark + " " + JsonSerializer.Serialize(result, ChildResult.Json));
                output.Flush();
            }
        }
    }

    /// <summary>The engine's own log lines in this process (the store's outage waits), sent as lines of the run.</summary>
    private sealed class RunLogger<T>(IRunLogSink sink) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                sink.Write(logLevel, formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})"), null);
            }
        }
    }

    // The parent's key ring (the store, or the folder it names): a provider just for this, since the process has no host.
    private static SecretParameters SecretsOf(SqlRunStore store, RunbookEngineOptions options)
    {
        var services = new ServiceCollection().AddSingleton<IKeyRingStore>(store).AddRunbookDataProtection(options);
        return services.BuildServiceProvider().GetRequiredService<SecretParameters>();
    }

    private static string Describe(Exception? exception) =>
        exception is null ? "an unknown error" : $"{exception.GetType().Name}: {exception.Message}{(ScriptLocation.Of(exception) is { } where ? $" (at {where})" : "")}";

    /// <summary>The catalog here only resolves pinned versions from the store; it never loads a source.</summary>
    private sealed class NoSource : IRunbookSourceProvider
    {
        public string Kind => "version store";

        public string Description => "the version store";

        public Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken) => throw new NotSupportedException("a run's process does not load runbooks");

        public Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken) => Task.FromResult<CatalogRevision?>(null);
    }

    /// <summary>Rests the run, as the host does: the question is journaled and the parent records the rest.</summary>
    /// <summary>Remembers which steps this process finished, so the parent counts them in its metrics once.</summary>
    private sealed class FinishedSteps(IStepJournal inner) : IStepJournal
    {
        private readonly List<int> _finished = [];

        public IReadOnlyList<int> Finished
        {
            get
            {
                lock (_finished)
                {
                    return [.. _finished];
                }
            }
        }

        public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) => inner.FindAsync(sequence, cancellationToken);

        public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken) => inner.StepStartedAsync(outcome, cancellationToken);

        public async ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
        {
            await inner.StepFinishedAsync(outcome, cancellationToken);
            lock (_finished)
            {
                _finished.Add(outcome.Sequence);
            }
        }
    }

    /// <summary>Console output cut into lines, masked, and sent as log lines of the run.</summary>
    private sealed class ConsoleLines(ChildLogWriter lines, LogLevel level, Redactor redactor) : TextWriter
    {
        private readonly StringBuilder _line = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_line)
            {
                if (value == '\n')
                {
                    Flush();
                    return;
                }

                // A line without an end is cut rather than held without bound.
                if (_line.Length >= ChildLogWriter.MaxLineLength)
                {
                    Flush();
                }

                _line.Append(value);
            }
        }

        public override void Write(string? value)
        {
            foreach (var c in value ?? "")
            {
                Write(c);
            }
        }

        public override void Flush()
        {
            lock (_line)
            {
                if (_line.Length > 0)
                {
                    lines.Write(level, redactor.Redact(_line.ToString().TrimEnd('\r')), null);
                    _line.Clear();
                }
            }
        }
    }
}

/// <summary>How a run's process says its run ended: one JSON line on its standard output.</summary>
/// <param name="Status">How the execution ended.</param>
/// <param name="Error">Why it did not succeed, redacted.</param>
/// <param name="Asked">The question it rests on, when it waits for a person.</param>
/// <param name="Finished">The steps this process finished (not those replayed from the journal).</param>
/// <param name="Proposal">What a shadow run would have done, when it ended Proposed.</param>
internal sealed record ChildResult(RunStatus Status, string? Error, HumanRequest? Asked, IReadOnlyList<int> Finished, RunProposal? Proposal = null)
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
}

/// <summary>
/// A run's log lines as JSON lines on a stream (the child's standard error), for the parent to forward into the host
/// log with the run's scope. Each line is capped so one huge message cannot swamp the pipe.
/// </summary>
internal sealed class ChildLogWriter(Stream stream) : IRunLogSink, IDisposable
{
    /// <summary>The longest message sent; the rest of a longer one is dropped with a note.</summary>
    public const int MaxLineLength = 8 * 1024;

    private readonly StreamWriter _writer = new(stream, new UTF8Encoding(false)) { AutoFlush = true };

    public void Write(LogLevel level, string message, string? stepName)
    {
        var json = JsonSerializer.Serialize(new ChildLogLine(level, stepName, RunLogBudget.Cap(message)), ChildResult.Json);
        lock (_writer)
        {
            _writer.WriteLine(json);
        }
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>One log line of a run's process.</summary>
/// <param name="Level">Its level.</param>
/// <param name="Step">The step it belongs to, if any.</param>
/// <param name="Message">The redacted text.</param>
internal sealed record ChildLogLine(LogLevel Level, string? Step, string Message);
