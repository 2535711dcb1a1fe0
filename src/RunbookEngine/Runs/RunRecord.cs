using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Runs;

/// <summary>One run as the store keeps it: created Queued before it is dispatched, updated as it moves on.</summary>
/// <param name="Id">The run id (also the scheduler's job identity).</param>
/// <param name="Runbook">The runbook's name.</param>
/// <param name="Commit">The Git commit of the runbook source, when known.</param>
/// <param name="ContentHash">The hash of the source closure that runs.</param>
/// <param name="Trigger">What started it.</param>
/// <param name="TriggeredBy">Who or what: a user, an alert id, a schedule.</param>
/// <param name="ParametersJson">The parameters as given (text values by name), JSON.</param>
/// <param name="Status">Where it stands.</param>
/// <param name="Attempt">How many executions have started (0 while queued).</param>
/// <param name="Node">The node executing it, or that last did.</param>
/// <param name="ConcurrencyKey">The rendered concurrency key, if the runbook has one.</param>
/// <param name="QueuedAt">When the run was recorded.</param>
/// <param name="StartedAt">When its first execution started.</param>
/// <param name="FinishedAt">When it ended.</param>
/// <param name="Error">Why it did not succeed.</param>
/// <param name="RetryOf">The run this one retries, if any.</param>
/// <param name="AlertId">The alert that started it, if any.</param>
/// <param name="Target">What the run acts on, for cooldowns: its concurrency key, else the alert's fingerprint.</param>
/// <param name="ManualMinutes">The toil baseline: what the runbook's version declared a run costs a person by hand.</param>
/// <param name="TraceParent">The W3C trace context of what queued the run (a request, an alert's matching), for its trace's link.</param>
/// <param name="SealedParameters">The secret parameters' values, sealed (see <see cref="SecretParameters"/>); null when there are none.</param>
public sealed record RunRecord(
    string Id,
    string Runbook,
    string? Commit,
    string ContentHash,
    RunTrigger Trigger,
    string TriggeredBy,
    string ParametersJson,
    RunStatus Status,
    int Attempt,
    string? Node,
    string? ConcurrencyKey,
    DateTimeOffset QueuedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    string? Error,
    string? RetryOf,
    string? AlertId = null,
    string? Target = null,
    double? ManualMinutes = null,
    string? TraceParent = null,
    string? SealedParameters = null)
{
    /// <summary>The claim of the execution that runs it, or last did.</summary>
    public string? Execution { get; init; }

    /// <summary>The scheduler's job that delivered its latest execution.</summary>
    public string? JobId { get; init; }

    /// <summary>Who asked to cancel it while it ran, if anyone did.</summary>
    public string? CancelRequested { get; init; }

    /// <summary>How far the run could act on its own; <see cref="RunMode.Auto"/> until an execution of it says otherwise.</summary>
    public RunMode Mode { get; init; }

    /// <summary>What a shadow run would have done where it stopped, when it ended <see cref="RunStatus.Proposed"/>.</summary>
    public RunProposal? Proposal { get; init; }

    /// <summary>A person's verdict on the proposal, once given.</summary>
    public RunVerdict? Verdict { get; init; }

    /// <summary>What the runbook's budget gate decided when an alert queued the run; null when nothing was gated.</summary>
    public Slos.BudgetGateDecision? BudgetGate { get; init; }

    /// <summary>Whether the run has ended for good.</summary>
    public bool IsTerminal => RunStatuses.IsTerminal(Status);
}

/// <summary>A person's verdict on what a shadow run proposed.</summary>
/// <param name="Right">Whether doing what it proposed would have been right.</param>
/// <param name="By">Who said so.</param>
/// <param name="Comment">Why, if they said.</param>
/// <param name="At">When.</param>
public sealed record RunVerdict(bool Right, string By, string? Comment, DateTimeOffset At);

/// <summary>Facts about run statuses that several places need to agree on.</summary>
public static class RunStatuses
{
    /// <summary>The statuses a run never leaves, as the store writes them, for SQL.</summary>
    public const string TerminalSql = "('Succeeded', 'Failed', 'Cancelled', 'TimedOut', 'Proposed')";

    /// <summary>Whether a run with this status has ended for good.</summary>
    /// <param name="status">The status.</param>
    /// <returns>True for the outcomes, including a shadow run's proposal.</returns>
    public static bool IsTerminal(RunStatus status) =>
        status is RunStatus.Succeeded or RunStatus.Failed or RunStatus.Cancelled or RunStatus.TimedOut or RunStatus.Proposed;
}

/// <summary>What a caller gives to record a new run.</summary>
/// <param name="Runbook">The runbook's name.</param>
/// <param name="Commit">The Git commit, when known.</param>
/// <param name="ContentHash">The hash of the version to run.</param>
/// <param name="Trigger">What starts it.</param>
/// <param name="TriggeredBy">Who or what.</param>
/// <param name="ParametersJson">The parameters as given, JSON.</param>
/// <param name="ConcurrencyKey">The rendered concurrency key, if any.</param>
/// <param name="RetryOf">The run this one retries, if any.</param>
/// <param name="AlertId">The alert that starts it, if any; one alert starts at most one run of each runbook.</param>
/// <param name="Target">What the run acts on, for cooldowns.</param>
/// <param name="ManualMinutes">The toil baseline declared by the version that runs.</param>
/// <param name="TraceParent">The W3C trace context of what queues it, if traced.</param>
/// <param name="SealedParameters">The secret parameters' values, sealed; their places in <paramref name="ParametersJson"/> hold ***.</param>
public sealed record NewRun(
    string Runbook,
    string? Commit,
    string ContentHash,
    RunTrigger Trigger,
    string TriggeredBy,
    string ParametersJson = "{}",
    string? ConcurrencyKey = null,
    string? RetryOf = null,
    string? AlertId = null,
    string? Target = null,
    double? ManualMinutes = null,
    string? TraceParent = null,
    string? SealedParameters = null)
{
    /// <summary>What the runbook's budget gate decided, for an alert-started run of a gated runbook.</summary>
    public Slos.BudgetGateDecision? BudgetGate { get; init; }
}

/// <summary>A page of runs, newest first.</summary>
/// <param name="Runbook">Only this runbook's runs.</param>
/// <param name="Status">Only runs in this status.</param>
/// <param name="Limit">At most this many (1 to 500).</param>
/// <param name="Before">Only runs older than this run id (the cursor of the next page).</param>
/// <param name="Trigger">Only runs started this way.</param>
/// <param name="AlertId">Only runs started by this alert.</param>
/// <param name="Target">Only runs whose target (concurrency key, else alert source:fingerprint) contains this.</param>
/// <param name="Since">Only runs queued at or after this.</param>
/// <param name="Until">Only runs queued before this.</param>
/// <param name="Text">Free text, case-insensitive, in the run's id, runbook, who started it, target, parameters or error.</param>
/// <param name="RetryOf">Only retries of this run.</param>
public sealed record RunQuery(
    string? Runbook = null,
    RunStatus? Status = null,
    int Limit = 50,
    string? Before = null,
    RunTrigger? Trigger = null,
    string? AlertId = null,
    string? Target = null,
    DateTimeOffset? Since = null,
    DateTimeOffset? Until = null,
    string? Text = null,
    string? RetryOf = null);
