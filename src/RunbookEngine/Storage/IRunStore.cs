using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;

namespace RunbookEngine.Storage;

/// <summary>
/// Runs and their step journal. PostgreSQL and SQLite implement it and pass the same contract tests.
/// </summary>
public interface IRunStore
{
    /// <summary>Creates or upgrades the schema; refuses a schema newer than this code.</summary>
    /// <param name="cancellationToken">Cancels the migration.</param>
    /// <returns>A task that completes when the schema is current.</returns>
    /// <exception cref="SchemaTooNewException">The database was migrated by a newer RunbookEngine.</exception>
    Task MigrateAsync(CancellationToken cancellationToken);

    /// <summary>Records a new run, status Queued.</summary>
    /// <param name="run">What to record.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The stored run.</returns>
    Task<RunRecord> CreateRunAsync(NewRun run, CancellationToken cancellationToken);

    /// <summary>One run, or null.</summary>
    /// <param name="id">The run id.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The run or null.</returns>
    Task<RunRecord?> GetRunAsync(string id, CancellationToken cancellationToken);

    /// <summary>Runs newest first, filtered and paged by cursor.</summary>
    /// <param name="query">Filters and page.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The page.</returns>
    Task<IReadOnlyList<RunRecord>> ListRunsAsync(RunQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Moves a queued (or, when recovering, a running) run to Running on a node and counts the attempt, unless another
    /// run holds its concurrency key or was queued for the key before it. The check and the claim are one atomic step.
    /// </summary>
    /// <param name="id">The run id.</param>
    /// <param name="node">The node taking it.</param>
    /// <param name="recovering">True when the run was in flight on a node that died.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The run as started; or no run and the id of the run that holds the key; or neither when it was not startable.</returns>
    Task<StartResult> StartRunAsync(string id, string node, bool recovering, CancellationToken cancellationToken);

    /// <summary>
    /// Marks a run as running on <paramref name="node"/> for one execution (one firing of its job). A queued run, or a
    /// run whose wait for a person is over, starts; a running run is taken over only by the recovery of the execution
    /// that is running it, so the late recovery of an execution that already ended (its node died after the run came
    /// to rest) cannot start the run a second time beside the node now running it.
    /// </summary>
    /// <param name="id">The run id.</param>
    /// <param name="node">The node taking it.</param>
    /// <param name="execution">Which execution this is, and which it recovers.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The run as started; or no run and the id of the run that holds the key; or neither when it was not startable.</returns>
    Task<StartResult> StartRunAsync(string id, string node, RunExecution execution, CancellationToken cancellationToken);

    /// <summary>
    /// Holds the run for one execution while the returned handle lives, so other nodes can tell that it is alive however
    /// long it stalls. Null when a live execution elsewhere holds it: the caller steps back.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The hold, to dispose when the execution ends; or null.</returns>
    Task<IAsyncDisposable?> HoldRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Renews the heartbeat of the runs this node runs, and says how each stands now.</summary>
    /// <param name="runIds">The runs this node runs.</param>
    /// <param name="node">This node.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>Each run's claim, status and cancel request.</returns>
    Task<IReadOnlyList<ClaimState>> RenewClaimsAsync(IReadOnlyCollection<string> runIds, string node, CancellationToken cancellationToken);

    /// <summary>Asks whichever node runs the run to cancel it (its heartbeat sees the request within a second).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="by">Who asks.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>False when the run is not running.</returns>
    Task<bool> RequestCancelAsync(string runId, string by, CancellationToken cancellationToken);

    /// <summary>
    /// Finds runs whose dispatch was lost, marks them dispatched now and returns them: queued runs last handed to the
    /// scheduler (recorded, requeued, due, or dispatched again) at or before <paramref name="queuedBefore"/>, running
    /// runs under a dead claim, and resting runs past their wake-up by <paramref name="bound"/>. A run is returned at
    /// most once per bound, by one node.
    /// </summary>
    /// <param name="now">Now.</param>
    /// <param name="bound">How long a dispatched run may take to start.</param>
    /// <param name="queuedBefore">Queued runs handed over before this are lost (the scheduler's queue holds nothing
    /// older); null to look at no queued run.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The runs to dispatch again.</returns>
    Task<IReadOnlyList<OverdueRun>> ClaimOverdueRunsAsync(DateTimeOffset now, TimeSpan bound, DateTimeOffset? queuedBefore, int limit, CancellationToken cancellationToken);

    /// <summary>The id of an unfinished run that holds or waits for a concurrency key, or null.</summary>
    /// <param name="concurrencyKey">The key.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>A run id or null.</returns>
    Task<string?> ActiveRunForKeyAsync(string concurrencyKey, CancellationToken cancellationToken);

    /// <summary>Records how a run ended (or that it waits for a person).</summary>
    /// <param name="id">The run id.</param>
    /// <param name="status">Its new status.</param>
    /// <param name="reason">Why it did not succeed, if it did not.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when the run existed and was not already terminal.</returns>
    Task<bool> FinishRunAsync(string id, RunStatus status, string? reason, CancellationToken cancellationToken);

    /// <summary>Records how a run ended, only while <paramref name="claim"/> still holds it (any claim when null).</summary>
    /// <param name="id">The run id.</param>
    /// <param name="status">Its new status.</param>
    /// <param name="reason">Why it did not succeed, if it did not.</param>
    /// <param name="claim">The execution's claim.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when this write ended the run.</returns>
    Task<bool> FinishRunAsync(string id, RunStatus status, string? reason, string? claim, CancellationToken cancellationToken);

    /// <summary>Puts a running run back to Queued for a later attempt, recording why the last one failed.</summary>
    /// <param name="id">The run id.</param>
    /// <param name="reason">Why the attempt failed and when the next one starts.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when the run was running.</returns>
    Task<bool> RequeueRunAsync(string id, string reason, CancellationToken cancellationToken);

    /// <summary>Puts a running run back in the queue, due at <paramref name="notBefore"/>, while <paramref name="claim"/> holds it.</summary>
    /// <param name="id">The run id.</param>
    /// <param name="reason">Why.</param>
    /// <param name="notBefore">When it is due (its retry's backoff); now when null.</param>
    /// <param name="claim">The execution's claim; any when null.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>True when it was requeued.</returns>
    Task<bool> RequeueRunAsync(string id, string reason, DateTimeOffset? notBefore, string? claim, CancellationToken cancellationToken);

    /// <summary>Writes a step's journal entry, replacing the one at the same sequence.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="outcome">The entry.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>A task that completes when the entry is durable.</returns>
    Task SaveStepAsync(string runId, StepOutcome outcome, CancellationToken cancellationToken);

    /// <summary>Records a step's outcome only while <paramref name="claim"/> holds the run (always when null).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="outcome">The step.</param>
    /// <param name="claim">The execution's claim.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>False when another execution holds the run now.</returns>
    Task<bool> SaveStepAsync(string runId, StepOutcome outcome, string? claim, CancellationToken cancellationToken);

    /// <summary>The entry at a sequence, or null.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The step's position.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The entry or null.</returns>
    Task<StepOutcome?> FindStepAsync(string runId, int sequence, CancellationToken cancellationToken);

    /// <summary>A run's steps in order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The steps.</returns>
    Task<IReadOnlyList<StepOutcome>> GetStepsAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Records a person's answer to a Manual step or an approval that waits for one, and marks its run to be woken.
    /// Only the first answer counts.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The step's position.</param>
    /// <param name="answer">Who answered, yes or no, their comment, and when they picked the step up if they say.</param>
    /// <param name="reason">For a no: the reason the step records as its error.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The step as it now stands and whether this answer was the one recorded.</returns>
    Task<HumanAnswerResult> AnswerHumanStepAsync(string runId, int sequence, Sdk.Hosting.HumanResponse answer, string? reason, CancellationToken cancellationToken);

    /// <summary>Records that a person took a waiting step on (the start of the human minutes it costs); the first pickup counts.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="sequence">The step's position.</param>
    /// <param name="actor">Who took it on.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The step as it now stands, or null.</returns>
    Task<StepOutcome?> PickUpHumanStepAsync(string runId, int sequence, string actor, CancellationToken cancellationToken);

    /// <summary>
    /// Lets a running run rest as WaitingForHuman, to be woken at <paramref name="dueAt"/> (when its question times
    /// out) or as soon as someone answers.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="dueAt">When the wait times out, if it does.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>When the run is to be woken: already past when an answer came while it was still running.</returns>
    Task<DateTimeOffset?> RestForHumanAsync(string runId, DateTimeOffset? dueAt, CancellationToken cancellationToken);

    /// <summary>As <see cref="RestForHumanAsync(string, DateTimeOffset?, CancellationToken)"/>, only while <paramref name="claim"/> holds the run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="dueAt">When the wait times out, if it does.</param>
    /// <param name="claim">The execution's claim.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>When the run is to be woken.</returns>
    Task<DateTimeOffset?> RestForHumanAsync(string runId, DateTimeOffset? dueAt, string? claim, CancellationToken cancellationToken);

    /// <summary>Ids of runs waiting for a person that are due to wake (answered, or their wait timed out).</summary>
    /// <param name="now">The current time.</param>
    /// <param name="limit">At most this many.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The ids, longest due first.</returns>
    Task<IReadOnlyList<string>> RunsToWakeAsync(DateTimeOffset now, int limit, CancellationToken cancellationToken);

    /// <summary>Keeps what an execution's commands and HTTP calls returned, numbered after the run's calls so far.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="calls">The calls, in the order they ended.</param>
    /// <param name="claim">The writing execution's claim: the calls are kept only while it still holds the run; null keeps them regardless.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>False when the claim was lost and nothing was kept.</returns>
    Task<bool> SaveCallsAsync(string runId, IReadOnlyList<Trust.Testing.RecordedCall> calls, string? claim, CancellationToken cancellationToken);

    /// <summary>A run's recorded commands and HTTP calls, in order.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The calls.</returns>
    Task<IReadOnlyList<Trust.Testing.RecordedCall>> GetCallsAsync(string runId, CancellationToken cancellationToken);
}

/// <summary>What <see cref="IRunStore.AnswerHumanStepAsync"/> did.</summary>
/// <param name="Step">The step as it stands now; null when the run has no such step.</param>
/// <param name="Answered">True when this answer was recorded; false when the step was not waiting (answered before, or ended).</param>
public sealed record HumanAnswerResult(StepOutcome? Step, bool Answered);

/// <summary>One execution of a run, and the claim it holds on the run while it runs.</summary>
/// <param name="Claim">Unique to this execution: written on the run when it starts, renewed by its node's heartbeat, and
/// checked by every journal and outcome write, so an execution that lost the run cannot write over the one that has it.</param>
/// <param name="Takeover">Whether this execution may take a run that is already running.</param>
/// <param name="JobId">The scheduler's job that delivered it, recorded on the run for its page to link to.</param>
public sealed record RunExecution(string Claim, ClaimTakeover Takeover = ClaimTakeover.FromDeadNode, string? JobId = null);

/// <summary>When an execution may take over a run that another execution already runs.</summary>
public enum ClaimTakeover
{
    /// <summary>Never: only a queued run, or one whose wait for a person is over, starts.</summary>
    Never = 0,

    /// <summary>When the claim on it is dead: no heartbeat within the lease, and (on PostgreSQL) no live session holds the run.</summary>
    FromDeadNode = 1,

    /// <summary>Always (an operator's, or a test's, recovery).</summary>
    Always = 2,
}

/// <summary>What <see cref="IRunStore.StartRunAsync(string, string, RunExecution, CancellationToken)"/> did.</summary>
/// <param name="Run">The run as started, or null.</param>
/// <param name="BlockedBy">The run holding (or first in line for) the same concurrency key, when that kept this one from starting.</param>
public sealed record StartResult(RunRecord? Run, string? BlockedBy)
{
    /// <summary>True when the run was running under a dead claim, and this execution took it over.</summary>
    public bool TookOver { get; init; }
}

/// <summary>A run as its node's heartbeat found it.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Claim">The claim it is under now.</param>
/// <param name="Status">Its status.</param>
/// <param name="CancelRequested">Who asked to cancel it, if anyone did.</param>
public sealed record ClaimState(string RunId, string? Claim, RunStatus Status, string? CancelRequested);

/// <summary>A run the watchdog found overdue and marked as dispatched again.</summary>
/// <param name="RunId">The run.</param>
/// <param name="Status">Queued (never started), Running (under a dead claim) or WaitingForHuman (due to wake).</param>
public sealed record OverdueRun(string RunId, RunStatus Status);

/// <summary>The database holds a schema written by a newer RunbookEngine; running older code on it could corrupt it.</summary>
public sealed class SchemaTooNewException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="found">The version in the database.</param>
    /// <param name="known">The newest version this code knows.</param>
    public SchemaTooNewException(int found, int known)
        : base($"the database schema is at version {found}, newer than this RunbookEngine understands ({known}); upgrade RunbookEngine, or point it at another database")
    {
        Found = found;
        Known = known;
    }

    /// <summary>The version in the database.</summary>
    public int Found { get; }

    /// <summary>The newest version this code knows.</summary>
    public int Known { get; }
}
