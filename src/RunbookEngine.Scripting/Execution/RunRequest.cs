using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Scripting.Execution;

/// <summary>One execution of a compiled runbook, with everything it needs.</summary>
public sealed class RunRequest
{
    /// <summary>The version to run.</summary>
    public required CompiledRunbook Runbook { get; init; }

    /// <summary>Its front matter (for the timeout).</summary>
    public required RunbookDefinition Definition { get; init; }

    /// <summary>The run's identity and trigger.</summary>
    public required RunInfo Run { get; init; }

    /// <summary>Bound parameters.</summary>
    public RunbookParameters Parameters { get; init; } = new(new Dictionary<string, object?>());

    /// <summary>The alert that started it, if any.</summary>
    public RunbookAlert? Alert { get; init; }

    /// <summary>Where steps are journaled.</summary>
    public IStepJournal Journal { get; init; } = new InMemoryStepJournal();

    /// <summary>Who answers human steps.</summary>
    public IHumanGate? HumanGate { get; init; }

    /// <summary>Where log lines go.</summary>
    public IRunLogSink? LogSink { get; init; }

    /// <summary>Where secrets come from.</summary>
    public ISecretStore Secrets { get; init; } = new EnvironmentSecretStore();

    /// <summary>Environment variables commands the run starts with <c>Shell()</c> do not inherit; null hides none.</summary>
    public Func<string, bool>? HiddenFromCommands { get; init; }

    /// <summary>Who may approve a confirm-mode run's first side effect.</summary>
    public ConfirmSettings Confirm { get; init; } = new();

    /// <summary>Answers the runbook's commands in place of real processes; real processes when null.</summary>
    public ICommandRunner? Commands { get; init; }

    /// <summary>Answers the runbook's <c>Http</c> requests; the network when null.</summary>
    public HttpMessageHandler? HttpHandler { get; init; }

    /// <summary>Keeps what commands and HTTP calls returned; nothing when null.</summary>
    public ICallRecorder? Calls { get; init; }

    /// <summary>The run's redactor, shared with the host's own logging of the run.</summary>
    public Redactor Redactor { get; init; } = new();

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>
    /// After a cancel or timeout, how long (wall clock) cooperative code gets to record how its steps ended before the
    /// executor records them itself.
    /// </summary>
    public TimeSpan CancellationGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Fires when the host stops waiting for the run to finish on shutdown. Unlike a cancel, the run ends
    /// <see cref="RunStatus.Queued"/> so it can resume, and the step it cut short is recorded as
    /// <see cref="StepStatus.Interrupted"/>.
    /// </summary>
    public CancellationToken InterruptToken { get; init; }

    /// <summary>
    /// How long the run may take from now; the definition's timeout when null. A run continued in a process of its own
    /// gets what is left of the timeout its host started counting.
    /// </summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The first delay between step retries when a step gives none.</summary>
    public TimeSpan DefaultStepBackoff { get; init; } = TimeSpan.FromSeconds(1);
}
