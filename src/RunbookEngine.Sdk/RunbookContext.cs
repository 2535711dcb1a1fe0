using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk;

/// <summary>
/// Everything a runbook script sees: its members are in scope in every <c>.csx</c> runbook, so a script writes
/// <c>await Step("restart", ct => Shell($"systemctl restart {unit}", ct));</c> directly.
/// </summary>
public sealed class RunbookContext
{
    private readonly RunbookContextSettings _settings;
    private readonly IStepJournal _journal;
    private readonly TimeProvider _time;

    // The step whose code is running on this async flow; Shell and Log write into its output.
    private readonly AsyncLocal<StepScope?> _currentStep = new();

    // Every step this execution reached, by sequence, for the run's result.
    private readonly ConcurrentDictionary<int, StepOutcome> _outcomes = new();

    // Per run, not JsonSerializerOptions.Default: the default's cache would hold script-defined result types, and with
    // them the runbook's collectible load context, forever.
    private readonly JsonSerializerOptions _json = new(JsonSerializerDefaults.General);

    private int _sequence;

    // What a shadow run would have done, set once where it stopped; and whether a confirm run's person has said yes.
    private RunProposal? _proposal;
    private volatile bool _confirmed;
    private HttpClient? _http;

    /// <summary>Creates the context for one execution of a run; hosts call this, scripts never do.</summary>
    /// <param name="settings">The run and the services behind the SDK.</param>
    public RunbookContext(RunbookContextSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _settings = settings;
        _journal = settings.Journal;
        _time = settings.Time;
        Redactor = settings.Redactor;
        foreach (var name in settings.Parameters.Names.Where(settings.Parameters.IsSecret))
        {
            Redactor.Add(settings.Parameters.Get<string>(name, ""));
        }

        Log = new RunbookLog(this);
        Secrets = new RunbookSecrets(settings.Secrets, Redactor);
    }

    /// <summary>The run's parameters, typed as the front matter declares them.</summary>
    public RunbookParameters Params => _settings.Parameters;

    /// <summary>The alert that started the run; null for manual and scheduled runs.</summary>
    public RunbookAlert? Alert => _settings.Alert;

    /// <summary>Facts about the run: id, attempt, trigger, commit.</summary>
    public RunInfo Run => _settings.Run;

    /// <summary>The runbook's logger; lines are redacted and kept in the current step's output.</summary>
    public RunbookLog Log { get; }

    /// <summary>Secrets; every value read is redacted from the run's logs, outputs and errors.</summary>
    public RunbookSecrets Secrets { get; }

    /// <summary>Cancelled when the run is cancelled or reaches its timeout. Pass it to everything that waits.</summary>
    public CancellationToken CancellationToken => _settings.CancellationToken;

    /// <summary>The current time, from the host's clock.</summary>
    public DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>True when side effects are reported instead of performed.</summary>
    public bool DryRun => _settings.Run.DryRun;

    /// <summary>How far the run may act on its own: <c>mode:</c> in the front matter (a drill is always shadow).</summary>
    public RunMode Mode => _settings.Run.Mode;

    /// <summary>
    /// An HTTP client for the runbook's requests: each is kept in the step's output and recorded for test cases, a
    /// test case answers it from its stubs, inside a step the step's token applies, and in shadow or confirm mode a
    /// request that is not GET, HEAD, OPTIONS or TRACE is a side effect. It does not follow redirects, so a URL an alert
    /// supplies cannot bounce the host elsewhere.
    /// </summary>
    public HttpClient Http => LazyInitializer.EnsureInitialized(ref _http, () => new HttpClient(
        new RunbookHttpHandler(this, _settings.HttpHandler ?? RunbookHttpHandler.Network), disposeHandler: false));

    /// <summary>What a shadow run would have done where it stopped; null until then. Hosts read it.</summary>
    public RunProposal? Proposal => Volatile.Read(ref _proposal);

    /// <summary>The outcomes of the steps this execution has reached, in order.</summary>
    public IReadOnlyList<StepOutcome> Steps => [.. _outcomes.Values.OrderBy(outcome => outcome.Sequence)];

    /// <summary>The run's redactor.</summary>
    internal Redactor Redactor { get; }

    /// <summary>
    /// Records a step the host closed because the run ended while the step's code would not (it ignored its token).
    /// Hosts call this; scripts have no use for it.
    /// </summary>
    /// <param name="outcome">The step's final entry.</param>
    public void RecordClosed(StepOutcome outcome)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        _outcomes[outcome.Sequence] = outcome;
    }

    /// <summary>
    /// Runs a named step: journaled before and after, retried with exponential backoff, bounded by a timeout.
    /// On a resumed run a step that already succeeded is not run again.
    /// </summary>
    /// <param name="name">The step's name, shown in the timeline.</param>
    /// <param name="action">The step's work; honour its token, which fires on timeout and cancellation.</param>
    /// <param name="timeout">The limit for one attempt; none when null.</param>
    /// <param name="retries">How many more attempts after a failure or timeout.</param>
    /// <param name="backoff">The delay before the first retry, doubled for each later one (default 1s, at most 5m).</param>
    /// <param name="sideEffects">True when the step changes something: a dry run skips it, a shadow run stops before it, a confirm run asks first.</param>
    /// <param name="idempotent">True when running it twice is harmless, so a run resumed after a crash may repeat it.</param>
    /// <param name="manualMinutes">What this step would cost a person by hand, for the toil report.</param>
    /// <param name="description">What the step does, for people: shown with a shadow run's proposal and a confirm run's question.</param>
    /// <returns>A task that completes when the step has succeeded.</returns>
    /// <exception cref="StepFailedException">The last attempt failed or timed out.</exception>
    public Task Step(
        string name,
        Func<CancellationToken, Task> action,
        TimeSpan? timeout = null,
        int retries = 0,
        TimeSpan? backoff = null,
        bool sideEffects = false,
        bool idempotent = false,
        double? manualMinutes = null,
        string? description = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunStepAsync<object?>(
            name,
            async token =>
            {
                await action(token);
                return null;
            },
            new StepSpec(timeout, retries, backoff, sideEffects, idempotent, manualMinutes, HasResult: false, description));
    }

    /// <summary>
    /// Runs a named step that returns a value. The value is journaled as JSON, so a resumed run gets it back without
    /// running the step again.
    /// </summary>
    /// <typeparam name="T">The step's result type; it must round-trip through System.Text.Json.</typeparam>
    /// <param name="name">The step's name, shown in the timeline.</param>
    /// <param name="action">The step's work; honour its token, which fires on timeout and cancellation.</param>
    /// <param name="timeout">The limit for one attempt; none when null.</param>
    /// <param name="retries">How many more attempts after a failure or timeout.</param>
    /// <param name="backoff">The delay before the first retry, doubled for each later one (default 1s, at most 5m).</param>
    /// <param name="sideEffects">True when the step changes something: a dry run skips it and returns default, a shadow run stops before it, a confirm run asks first.</param>
    /// <param name="idempotent">True when running it twice is harmless, so a run resumed after a crash may repeat it.</param>
    /// <param name="manualMinutes">What this step would cost a person by hand, for the toil report.</param>
    /// <param name="description">What the step does, for people: shown with a shadow run's proposal and a confirm run's question.</param>
    /// <returns>The step's result.</returns>
    /// <exception cref="StepFailedException">The last attempt failed or timed out.</exception>
    public Task<T> Step<T>(
        string name,
        Func<CancellationToken, Task<T>> action,
        TimeSpan? timeout = null,
        int retries = 0,
        TimeSpan? backoff = null,
        bool sideEffects = false,
        bool idempotent = false,
        double? manualMinutes = null,
        string? description = null)
    {
        ArgumentNullException.ThrowIfNull(action);
        return RunStepAsync(name, action, new StepSpec(timeout, retries, backoff, sideEffects, idempotent, manualMinutes, HasResult: true, description));
    }

    /// <summary>
    /// Runs a program. Literal text splits into arguments on spaces; each <c>{value}</c> stays one argument, so values
    /// never become shell syntax. Output is captured into the current step. Inside a step, the step's token applies
    /// when none is given.
    /// </summary>
    /// <param name="command">The command, e.g. <c>$"df --output=pcent {path}"</c>.</param>
    /// <param name="cancellationToken">Cancels the command and kills its process tree; defaults to the step's or run's token.</param>
    /// <param name="timeout">Kills the process tree and throws <see cref="TimeoutException"/> after this long.</param>
    /// <param name="workingDirectory">Where the command runs; the current directory when null.</param>
    /// <param name="environment">Extra environment variables.</param>
    /// <param name="readOnly">True when the command only reads, so a dry run and a shadow run still run it.</param>
    /// <param name="check">True to throw <see cref="RunbookFailedException"/> on a non-zero exit code.</param>
    /// <returns>The exit code and captured output.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "Scripts write Shell($\"...\", ct); the token belongs next to the command, options follow by name.")]
    public Task<ShellResult> Shell(
        ShellCommand command,
        CancellationToken cancellationToken = default,
        TimeSpan? timeout = null,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null,
        bool readOnly = false,
        bool check = false)
    {
        ArgumentNullException.ThrowIfNull(command);
        return ShellAsync(command.ToArgv(), timeout, workingDirectory, environment, readOnly, check, cancellationToken);
    }

    /// <summary>Runs a program with an exact argument list, with no splitting at all.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments, each passed as is.</param>
    /// <param name="cancellationToken">Cancels the command and kills its process tree; defaults to the step's or run's token.</param>
    /// <param name="timeout">Kills the process tree and throws <see cref="TimeoutException"/> after this long.</param>
    /// <param name="readOnly">True when the command only reads, so a dry run and a shadow run still run it.</param>
    /// <param name="check">True to throw <see cref="RunbookFailedException"/> on a non-zero exit code.</param>
    /// <returns>The exit code and captured output.</returns>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1068", Justification = "Same order as the other Shell overload.")]
    public Task<ShellResult> Shell(
        string fileName,
        IEnumerable<string> arguments,
        CancellationToken cancellationToken = default,
        TimeSpan? timeout = null,
        bool readOnly = false,
        bool check = false) =>
        ShellAsync(ShellCommand.FromArguments(fileName, arguments).ToArgv(), timeout, null, null, readOnly, check, cancellationToken);

    /// <summary>
    /// A step a person performs: the run waits until someone confirms it is done (or rejects it, failing the run).
    /// The wait is measured for the toil report.
    /// </summary>
    /// <param name="instructions">What the person must do.</param>
    /// <param name="timeout">How long to wait for an answer; none when null.</param>
    /// <param name="manualMinutes">What the step costs a person, counted when nobody records picking it up.</param>
    /// <param name="role">A role the person must hold (<c>RunbookEngine:Roles</c> in the host); anyone when null.</param>
    /// <returns>A task that completes when the step is confirmed.</returns>
    /// <exception cref="ApprovalRejectedException">The step was rejected or nobody answered in time (<see cref="ApprovalRejectedException.TimedOut"/>).</exception>
    public Task Manual(string instructions, TimeSpan? timeout = null, double? manualMinutes = null, string? role = null) =>
        HumanStepAsync(StepKind.Manual, instructions, timeout, manualMinutes, role, differentPerson: false);

    /// <summary>A gate: the run goes on only if a person approves. Rejection (or no answer in time) fails the run.</summary>
    /// <param name="question">What the person is asked to allow.</param>
    /// <param name="timeout">How long to wait for an answer; none when null.</param>
    /// <param name="role">A role the approver must hold (<c>RunbookEngine:Roles</c> in the host); anyone when null.</param>
    /// <param name="differentPerson">Whether the approver must be someone other than the person who started the run.</param>
    /// <param name="manualMinutes">What deciding costs a person, counted when nobody records picking it up.</param>
    /// <returns>A task that completes when approved.</returns>
    /// <exception cref="ApprovalRejectedException">The request was rejected or nobody answered in time (<see cref="ApprovalRejectedException.TimedOut"/>).</exception>
    public Task Approve(string question, TimeSpan? timeout = null, string? role = null, bool differentPerson = false, double? manualMinutes = null) =>
        HumanStepAsync(StepKind.Approval, question, timeout, manualMinutes, role, differentPerson);

    internal void WriteLog(LogLevel level, string message)
    {
        var clean = Redactor.Redact(message);
        var scope = _currentStep.Value;
        scope?.Output.AppendLine(level switch
        {
            LogLevel.Warning => "WARN " + clean,
            LogLevel.Error or LogLevel.Critical => "ERROR " + clean,
            _ => clean,
        });
        _settings.LogSink?.Write(level, clean, scope?.Name);
    }

    private async Task<ShellResult> ShellAsync(
        IReadOnlyList<string> argv,
        TimeSpan? timeout,
        string? workingDirectory,
        IReadOnlyDictionary<string, string>? environment,
        bool readOnly,
        bool check,
        CancellationToken cancellationToken)
    {
        var scope = _currentStep.Value;
        var token = cancellationToken.CanBeCanceled ? cancellationToken : scope?.Token ?? CancellationToken;
        // Each argument is masked before quoting: quoting first would turn a secret holding ' into text no longer matching it.
        var display = ShellCommand.Display([.. argv.Select(Redactor.Redact)]);
        if (DryRun && !readOnly)
        {
            WriteLog(LogLevel.Information, $"dry run: would run `{display}`");
            return new ShellResult(display, 0, "", "", TimeSpan.Zero, DryRun: true);
        }

        CheckTimeout(timeout, "Shell");
        if (!readOnly)
        {
            await BeforeSideEffectAsync("command", display);
        }

        WriteLog(LogLevel.Debug, "$ " + display);
        var call = new CommandCall(argv, display, workingDirectory, environment, readOnly, timeout, scope?.Name);
        var result = _settings.Commands is { } commands
            ? await commands.RunAsync(call, token)
            : await ShellRunner.RunAsync(argv, display, workingDirectory, environment, _settings.HiddenFromCommands, timeout, _time, token);
        _settings.Calls?.Command(scope?.Sequence ?? 0, call, result with { StdOut = Redactor.Redact(result.StdOut), StdErr = Redactor.Redact(result.StdErr) });

        // The script gets the output as it is (it may parse it); what is kept or shown is masked.
        AppendOutput(scope, Redactor.Redact(result.StdOut));
        AppendOutput(scope, Redactor.Redact(result.StdErr));
        WriteLog(result.ExitCode == 0 ? LogLevel.Debug : LogLevel.Warning, $"`{display}` exited with {result.ExitCode} after {Durations.Format(result.Duration)}");
        return check ? result.EnsureSuccess() : result;
    }

    private static void AppendOutput(StepScope? scope, string text)
    {
        if (scope is null || text.Length == 0)
        {
            return;
        }

        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            scope.Output.AppendLine(line);
        }
    }

    private async Task<T> RunStepAsync<T>(string name, Func<CancellationToken, Task<T>> action, StepSpec spec)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentOutOfRangeException.ThrowIfNegative(spec.Retries);
        CheckTimeout(spec.Timeout, $"step '{name}'");
        name = Redactor.Redact(name);
        EnsureNotNested(name);
        CancellationToken.ThrowIfCancellationRequested();

        // Asked before the step takes its number, so a resumed run meets the same approval at the same place.
        if (spec.SideEffects && !DryRun && Mode == RunMode.Confirm)
        {
            await ConfirmAsync($"run step '{name}'{(spec.Description is { Length: > 0 } d ? ": " + d : "")}");
        }

        var sequence = Interlocked.Increment(ref _sequence);

        var earlier = await FindEarlierAsync(sequence, name);
        if (earlier is { Status: StepStatus.Succeeded or StepStatus.Skipped } && (!spec.HasResult || earlier.ResultJson is not null || earlier.Status == StepStatus.Skipped))
        {
            _outcomes[sequence] = earlier;
            WriteLog(LogLevel.Information, $"step {sequence} '{name}' already {earlier.Status.ToString().ToLowerInvariant()} in an earlier attempt; reusing its result");
            return earlier.ResultJson is null ? default! : JsonSerializer.Deserialize<T>(earlier.ResultJson, _json)!;
        }

        // Its result was kept from the journal (it held a secret, or could not be serialised), so reusing it is
        // impossible; running it again could repeat what it did.
        if (earlier is { Status: StepStatus.Succeeded, ResultJson: null } && spec.HasResult && !spec.Idempotent)
        {
            throw new StepInterruptedException(sequence, name, $"step {sequence} '{name}' succeeded in an earlier attempt, but its result was not journaled and it is not marked idempotent, so it is not run again; check what it did, then retry the run (return a secret's name rather than its value, or mark the step idempotent)");
        }

        if (earlier is { Status: StepStatus.Running or StepStatus.Interrupted } && !spec.Idempotent)
        {
            throw new StepInterruptedException(sequence, name);
        }

        var scope = new StepScope(sequence, name);
        var startedAt = _time.GetUtcNow();
        var outcome = new StepOutcome(sequence, name, StepKind.Automated, StepStatus.Running, startedAt, null, 0, "", null,
            StepOutcome.MachineActor, Idempotent: spec.Idempotent, ManualMinutes: spec.ManualMinutes);

        if (DryRun && spec.SideEffects)
        {
            scope.Output.AppendLine("dry run: skipped because the step has side effects");
            await FinishAsync(outcome with { Status = StepStatus.Skipped, FinishedAt = startedAt, Output = scope.Output.ToString() });
            return default!;
        }

        if (spec.SideEffects && Mode == RunMode.Shadow)
        {
            scope.Output.AppendLine("shadow mode: proposed, not run (the step is declared sideEffects)");
            await FinishAsync(outcome with { Status = StepStatus.Skipped, FinishedAt = startedAt, Output = scope.Output.ToString() });
            throw Propose(new RunProposal(name, spec.Description, "step", null, ParameterSnapshot()));
        }

        scope.SideEffects = spec.SideEffects;
        await StartAsync(outcome);
        using var activity = StepTracing.Start(Run, outcome);
        scope.Activity = activity;
        _currentStep.Value = scope;
        var attempt = 0;
        while (true)
        {
            attempt++;
            using var timeoutSource = spec.Timeout is { } limit ? new CancellationTokenSource(limit, _time) : null;
            using var attemptSource = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken, timeoutSource?.Token ?? CancellationToken.None);
            scope.Token = attemptSource.Token;
            Exception? failure;
            try
            {
                // WaitAsync returns at the timeout even when the step's code ignores its token.
                var result = await action(attemptSource.Token).WaitAsync(attemptSource.Token);
                await FinishAsync(outcome with
                {
                    Status = StepStatus.Succeeded,
                    FinishedAt = _time.GetUtcNow(),
                    Attempts = attempt,
                    ResultJson = spec.HasResult ? SerializeResult(result, scope, _json, Redactor) : null,
                    Output = scope.Output.ToString(),
                });
                return result;
            }
            catch (RunProposedException)
            {
                // Where a shadow run stops: not a failure of the step, and nothing to retry.
                scope.Output.AppendLine("shadow mode: stopped here; what follows was proposed, not done");
                await FinishAsync(outcome with { Status = StepStatus.Skipped, FinishedAt = _time.GetUtcNow(), Attempts = attempt, Output = scope.Output.ToString() });
                throw;
            }
            catch (ModeRefusedException ex)
            {
                var refused = outcome with { Status = StepStatus.Failed, FinishedAt = _time.GetUtcNow(), Attempts = attempt, Error = ex.Message, Output = scope.Output.ToString() };
                await FinishAsync(refused);
                throw new StepFailedException(refused, ex);
            }
            catch (Exception ex) when (CancellationToken.IsCancellationRequested)
            {
                var (cutStatus, cutError) = CutShort("while this step ran");
                await FinishAsync(outcome with
                {
                    Status = cutStatus,
                    FinishedAt = _time.GetUtcNow(),
                    Attempts = attempt,
                    Error = cutError,
                    Output = scope.Output.ToString(),
                });
                throw new OperationCanceledException($"step '{name}' was cancelled", ex, CancellationToken);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            var timedOut = timeoutSource?.IsCancellationRequested == true;
            var error = timedOut ? $"timed out after {Durations.Format(spec.Timeout!.Value)}" : Describe(failure);
            scope.Output.AppendLine($"attempt {attempt} {(timedOut ? "timed out" : "failed")}: {error}");
            if (attempt > spec.Retries)
            {
                var final = outcome with
                {
                    Status = timedOut ? StepStatus.TimedOut : StepStatus.Failed,
                    FinishedAt = _time.GetUtcNow(),
                    Attempts = attempt,
                    Error = error,
                    Output = scope.Output.ToString(),
                };
                await FinishAsync(final);
                throw new StepFailedException(final, timedOut ? null : failure);
            }

            var delay = Backoff(attempt, spec.Backoff);
            StepTracing.Retrying(activity, attempt, error);
            WriteLog(LogLevel.Warning, $"attempt {attempt} of {spec.Retries + 1} {(timedOut ? "timed out" : "failed")}; retrying in {Durations.Format(delay)}");
            try
            {
                await Task.Delay(delay, _time, CancellationToken);
            }
            catch (OperationCanceledException)
            {
                var (cutStatus, cutError) = CutShort("while this step waited to retry");
                await FinishAsync(outcome with
                {
                    Status = cutStatus,
                    FinishedAt = _time.GetUtcNow(),
                    Attempts = attempt,
                    Error = cutError,
                    Output = scope.Output.ToString(),
                });
                throw;
            }
        }
    }

    private async Task HumanStepAsync(StepKind kind, string text, TimeSpan? timeout, double? manualMinutes, string? role, bool differentPerson)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        CheckTimeout(timeout, kind == StepKind.Approval ? "Approve" : "Manual");
        if (manualMinutes is < 0 || (manualMinutes is { } minutes && !double.IsFinite(minutes)))
        {
            throw new ArgumentOutOfRangeException(nameof(manualMinutes), manualMinutes, "manualMinutes must be a finite number of minutes, zero or more");
        }

        var label = kind == StepKind.Approval ? "approve" : "manual";
        EnsureNotNested(label);
        CancellationToken.ThrowIfCancellationRequested();
        if (Mode == RunMode.Shadow && kind == StepKind.Manual && !DryRun)
        {
            // A person's work changes things as much as a step's.
            throw Propose(new RunProposal(Redactor.Redact(text), null, "manual", Redactor.Redact(text), ParameterSnapshot()));
        }

        var sequence = Interlocked.Increment(ref _sequence);
        var name = Redactor.Redact(kind == StepKind.Approval ? "Approve: " + text : text);
        if (name.Length > 200)
        {
            name = name[..200] + "…";
        }

        var earlier = await FindEarlierAsync(sequence, name);
        if (earlier is { Status: StepStatus.Succeeded or StepStatus.Skipped })
        {
            _outcomes[sequence] = earlier;
            if (earlier.Status == StepStatus.Succeeded)
            {
                CountsAsConfirmation(kind, role, differentPerson);
            }

            return;
        }

        if (earlier is { Status: StepStatus.Failed or StepStatus.TimedOut })
        {
            _outcomes[sequence] = earlier;
            throw new ApprovalRejectedException(earlier.Error ?? "the step was rejected", timedOut: earlier.Status == StepStatus.TimedOut);
        }

        StepOutcome outcome;
        if (earlier is { Status: StepStatus.WaitingForHuman })
        {
            // Resumed while still waiting (the wait timed out, or the run was woken for another reason): the question
            // stands as first asked, and its clock runs from then.
            outcome = earlier;
        }
        else
        {
            var now = _time.GetUtcNow();
            outcome = new StepOutcome(sequence, name, kind, StepStatus.WaitingForHuman, now, null, 1, "", null,
                Actor: "", Idempotent: true, ManualMinutes: manualMinutes, Role: role, DifferentPerson: differentPerson, DueAt: now + timeout);
            if (DryRun || Mode == RunMode.Shadow)
            {
                // A shadow run goes on past a question to find the step that would act, which is what it proposes.
                await FinishAsync(outcome with { Status = StepStatus.Skipped, FinishedAt = now, Actor = StepOutcome.MachineActor, Output = DryRun ? "dry run: nobody was asked" : "shadow mode: nobody was asked" });
                return;
            }

            await StartAsync(outcome);
        }

        var askedAt = outcome.StartedAt;
        if (_settings.HumanGate is not { } gate)
        {
            var error = "nobody can answer: this run has no way to ask a person";
            await FinishAsync(outcome with { Status = StepStatus.Failed, FinishedAt = askedAt, Error = error });
            throw new ApprovalRejectedException(error);
        }

        var remaining = askedAt + timeout - _time.GetUtcNow();
        if (remaining <= TimeSpan.Zero)
        {
            var error = $"nobody answered within {Durations.Format(timeout!.Value)}";
            await FinishAsync(outcome with { Status = StepStatus.TimedOut, FinishedAt = _time.GetUtcNow(), Error = error });
            throw new ApprovalRejectedException(error, timedOut: true);
        }

        _outcomes[sequence] = outcome;
        var request = new HumanRequest(Run.Id, sequence, kind, Redactor.Redact(text), askedAt, timeout, role, differentPerson);
        using var timeoutSource = remaining is { } limit ? new CancellationTokenSource(limit, _time) : null;
        using var waitSource = CancellationTokenSource.CreateLinkedTokenSource(CancellationToken, timeoutSource?.Token ?? CancellationToken.None);
        HumanResponse response;
        try
        {
            // A durable host's gate throws AwaitingHumanException here: the run stops, and this step is asked again,
            // with its answer in the journal, when the run resumes.
            response = await gate.AskAsync(request, waitSource.Token).WaitAsync(waitSource.Token);
        }
        catch (OperationCanceledException) when (timeoutSource?.IsCancellationRequested == true && !CancellationToken.IsCancellationRequested)
        {
            var error = $"nobody answered within {Durations.Format(timeout!.Value)}";
            await FinishAsync(outcome with { Status = StepStatus.TimedOut, FinishedAt = _time.GetUtcNow(), Error = error });
            throw new ApprovalRejectedException(error, timedOut: true);
        }
        catch (OperationCanceledException)
        {
            var (status, error) = CutShort("while this step waited for a person");
            await FinishAsync(outcome with { Status = status, FinishedAt = _time.GetUtcNow(), Error = error });
            throw;
        }

        var answered = outcome with
        {
            FinishedAt = _time.GetUtcNow(),
            Actor = Redactor.Redact(response.Actor),
            Comment = Redactor.RedactOrNull(response.Comment),
            PickedUpAt = response.PickedUpAt,
        };
        if (response.Approved)
        {
            await FinishAsync(answered with { Status = StepStatus.Succeeded });
            CountsAsConfirmation(kind, role, differentPerson);
            return;
        }

        var reason = $"{(kind == StepKind.Approval ? "rejected" : "not done")} by {answered.Actor}{(answered.Comment is { Length: > 0 } c ? ": " + c : "")}";
        await FinishAsync(answered with { Status = StepStatus.Failed, Error = reason });
        throw new ApprovalRejectedException(reason);
    }

    /// <summary>Why a step ended early once the run's token fired: its timeout, a host shutdown, or a person's cancel.</summary>
    private (StepStatus Status, string Error) CutShort(string when) =>
        _settings.RunTimeoutToken.IsCancellationRequested ? (StepStatus.TimedOut, $"the run reached its timeout {when}")
        : _settings.InterruptToken.IsCancellationRequested ? (StepStatus.Interrupted, $"the host shut down {when}; the run resumes on the next node")
        : (StepStatus.Cancelled, $"the run was cancelled {when}");

    /// <summary>Refuses timeouts the runtime cannot arm (zero, negative, or past ~49 days) before anything is journaled.</summary>
    private static void CheckTimeout(TimeSpan? timeout, string what)
    {
        if (timeout is { } value && (value <= TimeSpan.Zero || value > Durations.MaxTimeout))
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), value, $"the timeout of {what} must be more than zero and at most {Durations.Format(Durations.MaxTimeout)}");
        }
    }

    private async Task<StepOutcome?> FindEarlierAsync(int sequence, string name)
    {
        var earlier = await _journal.FindAsync(sequence, CancellationToken);
        if (earlier is not null && !string.Equals(earlier.Name, name, StringComparison.Ordinal))
        {
            throw new RunbookFailedException(
                $"the journal holds step {sequence} '{earlier.Name}' but the runbook now reaches '{name}' there: a run resumes only on the script it started with");
        }

        return earlier;
    }

    private void EnsureNotNested(string name)
    {
        if (_currentStep.Value is { } outer)
        {
            throw new InvalidOperationException($"'{name}' was called inside step '{outer.Name}': steps cannot be nested; call them one after another");
        }
    }

    private async Task StartAsync(StepOutcome outcome)
    {
        _outcomes[outcome.Sequence] = outcome;
        await _journal.StepStartedAsync(outcome, CancellationToken.None);
    }

    private async Task FinishAsync(StepOutcome outcome)
    {
        outcome = outcome with { Error = Redactor.RedactOrNull(outcome.Error), Output = Redactor.Redact(outcome.Output) };
        _outcomes[outcome.Sequence] = outcome;
        StepTracing.Finish(_currentStep.Value is { Activity: { } live } scope && scope.Sequence == outcome.Sequence ? live : null, Run, outcome);

        // The journal entry of a step that ended is written even when the run is being cancelled.
        await _journal.StepFinishedAsync(outcome, CancellationToken.None);
    }

    private TimeSpan Backoff(int attempt, TimeSpan? first)
    {
        var initial = first ?? _settings.DefaultBackoff;
        var factor = Math.Pow(2, Math.Min(attempt - 1, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(initial.Ticks * factor, _settings.MaxBackoff.Ticks));
        return delay;
    }

    private static string? SerializeResult<T>(T result, StepScope scope, JsonSerializerOptions json, Redactor redactor)
    {
        try
        {
            var serialized = JsonSerializer.Serialize(result, json);

            // The journal is shown by the API and the dashboard; a masked copy would replay as "***", so a result that
            // holds a secret is not journaled at all.
            if (!string.Equals(redactor.Redact(serialized), serialized, StringComparison.Ordinal))
            {
                scope.Output.AppendLine("the result holds a secret, so it is not journaled; a resumed run runs this step again only if it is idempotent");
                return null;
            }

            return serialized;
        }
        catch (Exception ex) when (ex is NotSupportedException or JsonException or InvalidOperationException)
        {
            scope.Output.AppendLine($"the result ({typeof(T).Name}) could not be journaled, so a resumed run runs this step again only if it is idempotent: {ex.Message}");
            return null;
        }
    }

    private string Describe(Exception exception)
    {
        var root = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception;
        var message = root is RunbookFailedException or TimeoutException ? root.Message : $"{root.GetType().Name}: {root.Message}";
        var where = ScriptLocation.Of(root);
        return Redactor.Redact(where is null ? message : $"{message} (at {where})");
    }

    /// <summary>
    /// Before a command or request that is not read-only: in shadow mode it is proposed and not done; in confirm mode
    /// it runs inside an approved or side-effect step, is asked about at the top level, and is refused inside a step
    /// that says it changes nothing (asking there would need the step to stop half way).
    /// </summary>
    /// <param name="action"><c>command</c> or <c>http</c>.</param>
    /// <param name="detail">The command line or request, masked.</param>
    internal async Task BeforeSideEffectAsync(string action, string detail)
    {
        if (DryRun || Mode == RunMode.Auto)
        {
            return;
        }

        var scope = _currentStep.Value;
        if (Mode == RunMode.Shadow)
        {
            throw Propose(new RunProposal(scope?.Name ?? detail, null, action, detail, ParameterSnapshot()));
        }

        if (_confirmed || scope is { SideEffects: true })
        {
            return;
        }

        if (scope is not null)
        {
            throw new ModeRefusedException(
                $"confirm mode: step '{scope.Name}' {(action == "http" ? "sends" : "runs")} `{detail}`, which changes something, but the step is not declared sideEffects: true, so nobody was asked; declare the step sideEffects: true (or the {(action == "http" ? "request a GET" : "command readOnly: true")} if it only reads)");
        }

        await ConfirmAsync($"{(action == "http" ? "send" : "run")} `{detail}`");
    }

    /// <summary>The current step's token, for work the step's code started without passing one.</summary>
    internal CancellationToken StepToken => _currentStep.Value?.Token ?? CancellationToken;

    /// <summary>The current step's number, 0 at the top level.</summary>
    internal int StepSequence => _currentStep.Value?.Sequence ?? 0;

    /// <summary>Where the SDK's HTTP client reports its exchanges.</summary>
    internal ICallRecorder? Calls => _settings.Calls;

    /// <summary>Keeps a line in the current step's output.</summary>
    internal void StepOutput(string line) => _currentStep.Value?.Output.AppendLine(Redactor.Redact(line));

    private async Task ConfirmAsync(string question)
    {
        if (_confirmed)
        {
            return;
        }

        var confirm = _settings.Confirm;
        await HumanStepAsync(StepKind.Approval, "confirm mode: " + question, confirm.Timeout, confirm.ManualMinutes, confirm.Role, confirm.DifferentPerson);
        _confirmed = true;
    }

    /// <summary>An approval the runbook asks itself satisfies confirm mode when it is at least as strict as <c>confirm:</c>.</summary>
    private void CountsAsConfirmation(StepKind kind, string? role, bool differentPerson)
    {
        var confirm = _settings.Confirm;
        if (kind == StepKind.Approval && (confirm.Role is null || string.Equals(confirm.Role, role, StringComparison.Ordinal)) && (!confirm.DifferentPerson || differentPerson))
        {
            _confirmed = true;
        }
    }

    private RunProposedException Propose(RunProposal proposal)
    {
        Interlocked.CompareExchange(ref _proposal, proposal, null);
        WriteLog(LogLevel.Information, $"shadow mode: proposed, not done: {proposal.Action} '{proposal.Step}'{(proposal.Detail is null || proposal.Detail == proposal.Step ? "" : $" ({proposal.Detail})")}");
        return new RunProposedException(Volatile.Read(ref _proposal)!);
    }

    private Dictionary<string, string> ParameterSnapshot() =>
        _settings.Parameters.ToDisplay().ToDictionary(pair => pair.Key, pair => Redactor.Redact(pair.Value ?? ""), StringComparer.Ordinal);

    private sealed record StepSpec(TimeSpan? Timeout, int Retries, TimeSpan? Backoff, bool SideEffects, bool Idempotent, double? ManualMinutes, bool HasResult, string? Description = null);

    /// <summary>A confirm-mode refusal inside a step: the runbook's declarations contradict what it does, so retrying cannot help.</summary>
    private sealed class ModeRefusedException(string message) : Exception(message);

    private sealed class StepScope(int sequence, string name)
    {
        public int Sequence { get; } = sequence;

        public string Name { get; } = name;

        public OutputBuffer Output { get; } = new();

        public CancellationToken Token { get; set; }

        // Declared sideEffects: in confirm mode, what it runs was approved with it.
        public bool SideEffects { get; set; }

        // The step's span, so the step's end closes the span its code ran under.
        public System.Diagnostics.Activity? Activity { get; set; }
    }
}
