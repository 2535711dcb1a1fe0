namespace RunbookEngine.Sdk.Hosting;

/// <summary>What a host hands a <see cref="RunbookContext"/>: the run, its inputs and the services behind the SDK.</summary>
public sealed class RunbookContextSettings
{
    /// <summary>Facts about the run.</summary>
    public required RunInfo Run { get; init; }

    /// <summary>The bound parameters.</summary>
    public RunbookParameters Parameters { get; init; } = new(new Dictionary<string, object?>());

    /// <summary>The alert that started the run, if one did.</summary>
    public RunbookAlert? Alert { get; init; }

    /// <summary>Where steps are recorded; an in-memory journal when not set.</summary>
    public IStepJournal Journal { get; init; } = new InMemoryStepJournal();

    /// <summary>Who answers manual steps and approvals; with none, every human step is rejected.</summary>
    public IHumanGate? HumanGate { get; init; }

    /// <summary>Where log lines go; nowhere when not set.</summary>
    public IRunLogSink? LogSink { get; init; }

    /// <summary>Where secrets come from; environment variables when not set.</summary>
    public ISecretStore Secrets { get; init; } = new EnvironmentSecretStore();

    /// <summary>The run's redactor; share one with the host so its own logs of the run are masked too.</summary>
    public Redactor Redactor { get; init; } = new();

    /// <summary>
    /// Environment variables a command started with <c>Shell()</c> does not inherit: the host's own credentials, which
    /// the host names. Null hides none (a runbook run from the command line has no host).
    /// </summary>
    public Func<string, bool>? HiddenFromCommands { get; init; }

    /// <summary>Who may approve a confirm-mode run's first side effect; anyone when not set.</summary>
    public ConfirmSettings Confirm { get; init; } = new();

    /// <summary>Runs the runbook's commands in place of real processes (a test case's stubs); real processes when null.</summary>
    public ICommandRunner? Commands { get; init; }

    /// <summary>
    /// Answers the runbook's HTTP requests made through <see cref="RunbookContext.Http"/> (a test case's stubs); the
    /// network when null.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Keeps what commands and HTTP calls returned, so a test case can be recorded from the run; nothing when null.</summary>
    public ICallRecorder? Calls { get; init; }

    /// <summary>The clock for timeouts, backoff and timestamps.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Cancelled when the run is cancelled or times out.</summary>
    public CancellationToken CancellationToken { get; init; }

    /// <summary>Fires when the run reaches its timeout (it also cancels <see cref="CancellationToken"/>), so steps cut short say why.</summary>
    public CancellationToken RunTimeoutToken { get; init; }

    /// <summary>
    /// Fires when the host interrupts the run to shut down (it also cancels <see cref="CancellationToken"/>), so steps
    /// cut short are recorded as <see cref="StepStatus.Interrupted"/> and the run can resume elsewhere.
    /// </summary>
    public CancellationToken InterruptToken { get; init; }

    /// <summary>The first retry's delay when a step gives none; later retries double it.</summary>
    public TimeSpan DefaultBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest delay between two attempts, however many retries.</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(5);
}
