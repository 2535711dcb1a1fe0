using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.Storage;

/// <summary>What every run store must do; each backend runs these against a real database of its kind.</summary>
public abstract class RunStoreContract : StoreContract
{
    [Fact]
    public async Task CreateRun_IsQueued_AndReadsBackAsWritten()
    {
        var created = await Store.CreateRunAsync(new NewRun("disk-cleanup", "abc123", "hash1", RunTrigger.Alert, "alert-42", "{\"path\":\"/var\"}", "disk:/var"), default);

        var read = await Store.GetRunAsync(created.Id, default);

        Assert.Equal(created, read);
        Assert.Equal((RunStatus.Queued, 0, Time.GetUtcNow()), (read!.Status, read.Attempt, read.QueuedAt));
    }

    [Fact]
    public async Task CreateRun_KeepsTheTraceContextOfWhatQueuedIt()
    {
        const string traceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        var created = await Store.CreateRunAsync(new NewRun("disk-cleanup", null, "hash1", RunTrigger.Manual, "alice", TraceParent: traceParent), default);

        Assert.Equal(traceParent, (await Store.GetRunAsync(created.Id, default))!.TraceParent);
        Assert.Equal(traceParent, Assert.Single(await Store.ListRunsAsync(new RunQuery(Runbook: "disk-cleanup"), default)).TraceParent);
    }

    [Fact]
    public async Task CreateRun_KeepsTheBudgetGatesDecision_AndReadsItBackAsWritten()
    {
        var gate = new RunbookEngine.Slos.BudgetGateDecision("checkout", "low", 5.25, 10, "confirm", true, Time.GetUtcNow().AddSeconds(-30), Time.GetUtcNow(),
            "5.25% of the error budget of checkout is left, below the gate's 10%: the run acts as confirm");
        var created = await Store.CreateRunAsync(new NewRun("restart", null, "hash1", RunTrigger.Alert, "alertmanager:CheckoutFailing") { BudgetGate = gate }, default);
        var ungated = await Store.CreateRunAsync(new NewRun("restart", null, "hash1", RunTrigger.Manual, "alice"), default);

        Assert.Equal(gate, (await Store.GetRunAsync(created.Id, default))!.BudgetGate);
        Assert.Equal(gate, (await Store.ListRunsAsync(new RunQuery(Runbook: "restart"), default)).Single(r => r.Id == created.Id).BudgetGate);
        Assert.Null((await Store.GetRunAsync(ungated.Id, default))!.BudgetGate);
    }

    [Fact]
    public async Task GetRun_OfAnUnknownId_IsNull()
    {
        Assert.Null(await Store.GetRunAsync("no-such-run", default));
    }

    [Fact]
    public async Task ListRuns_PagesNewestFirst_WithoutGapsOrRepeats()
    {
        var ids = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            ids.Add((await Store.CreateRunAsync(Some("pager"), default)).Id);
            if (i % 2 == 0)
            {
                Time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        var seen = new List<string>();
        string? cursor = null;
        while (true)
        {
            var page = await Store.ListRunsAsync(new RunQuery(Runbook: "pager", Limit: 3, Before: cursor), default);
            if (page.Count == 0)
            {
                break;
            }

            seen.AddRange(page.Select(r => r.Id));
            cursor = page[^1].Id;
        }

        Assert.Equal(ids.Order(), seen.Order());
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Contains(seen[0], ids[^2..]);
    }

    [Fact]
    public async Task ListRuns_FiltersByRunbookAndStatus()
    {
        var done = await Store.CreateRunAsync(Some("a"), default);
        await Store.CreateRunAsync(Some("a"), default);
        await Store.CreateRunAsync(Some("b"), default);
        await Store.StartRunAsync(done.Id, "node-1", recovering: false, default);
        await Store.FinishRunAsync(done.Id, RunStatus.Succeeded, null, default);

        var succeeded = await Store.ListRunsAsync(new RunQuery(Runbook: "a", Status: RunStatus.Succeeded), default);
        var ofA = await Store.ListRunsAsync(new RunQuery(Runbook: "a"), default);

        Assert.Equal([done.Id], succeeded.Select(r => r.Id));
        Assert.Equal(2, ofA.Count);
    }

    [Fact]
    public async Task ListRuns_FiltersByTriggerAlertTargetRetryTimeAndText()
    {
        var early = await Store.CreateRunAsync(new NewRun("disk", null, "h", RunTrigger.Alert, "alertmanager:DiskFull", "{\"path\":\"/var/Log_100%\"}", "disk:web-1", AlertId: "alert-1", Target: "disk:web-1"), default);
        Time.Advance(TimeSpan.FromMinutes(10));
        var retry = await Store.CreateRunAsync(new NewRun("disk", null, "h", RunTrigger.Retry, "alice", "{}", RetryOf: early.Id, Target: "disk:WEB-2"), default);
        await Store.StartRunAsync(retry.Id, "node-1", recovering: false, default);
        await Store.FinishRunAsync(retry.Id, RunStatus.Failed, "Permission denied on /var", default);
        Time.Advance(TimeSpan.FromMinutes(10));
        var manual = await Store.CreateRunAsync(new NewRun("restart", null, "h", RunTrigger.Manual, "bob", "{\"unit\":\"nginx\"}"), default);

        async Task<string[]> Ids(RunQuery query) => [.. (await Store.ListRunsAsync(query, default)).Select(r => r.Id)];

        Assert.Equal([retry.Id], await Ids(new RunQuery(Trigger: RunTrigger.Retry)));
        Assert.Equal([early.Id], await Ids(new RunQuery(AlertId: "alert-1")));
        Assert.Equal([retry.Id], await Ids(new RunQuery(RetryOf: early.Id)));
        Assert.Equal([retry.Id, early.Id], await Ids(new RunQuery(Target: "web")));
        Assert.Equal([retry.Id], await Ids(new RunQuery(Target: "Web-2")));
        Assert.Equal([manual.Id, retry.Id], await Ids(new RunQuery(Since: retry.QueuedAt)));
        Assert.Equal([early.Id], await Ids(new RunQuery(Until: retry.QueuedAt)));
        Assert.Equal([retry.Id], await Ids(new RunQuery(Text: "permission DENIED")));
        Assert.Equal([manual.Id], await Ids(new RunQuery(Text: "nginx")));
        Assert.Equal([manual.Id], await Ids(new RunQuery(Text: "BOB")));
        Assert.Equal([early.Id], await Ids(new RunQuery(Text: "log_100%")));
        Assert.Empty(await Ids(new RunQuery(Text: "log_1000")));
        Assert.Equal([early.Id], await Ids(new RunQuery(Text: "%")));
        Assert.Empty(await Ids(new RunQuery(Text: "l_g")));
        Assert.Equal([retry.Id], await Ids(new RunQuery(Runbook: "disk", Status: RunStatus.Failed, Text: "var", Trigger: RunTrigger.Retry)));
    }

    [Fact]
    public async Task StartRun_ASecondDelivery_StepsBackWhileTheClaimIsRenewed_AndTakesOverOnlyOnceItIsDead()
    {
        var run = await Store.CreateRunAsync(Some("claims"), default);

        var first = await Store.StartRunAsync(run.Id, "node-1", new RunExecution("first"), default);
        var whileAlive = await Store.StartRunAsync(run.Id, "node-2", new RunExecution("second"), default);
        Time.Advance(SqlRunStore.ClaimLease - TimeSpan.FromSeconds(1));
        await Store.RenewClaimsAsync([run.Id], "node-1", default);
        Time.Advance(SqlRunStore.ClaimLease - TimeSpan.FromSeconds(1));
        var afterRenewal = await Store.StartRunAsync(run.Id, "node-2", new RunExecution("third"), default);
        var neverTakesOver = await Store.StartRunAsync(run.Id, "node-2", new RunExecution("fourth", ClaimTakeover.Never), default);
        Time.Advance(TimeSpan.FromSeconds(1));
        var noTakeoverEvenNow = await Store.StartRunAsync(run.Id, "node-2", new RunExecution("fifth", ClaimTakeover.Never), default);
        var dead = await Store.StartRunAsync(run.Id, "node-2", new RunExecution("sixth"), default);

        Assert.False(first.TookOver);
        Assert.All(new[] { whileAlive, afterRenewal, neverTakesOver, noTakeoverEvenNow }, stepsBack => Assert.Null(stepsBack.Run));
        Assert.True(dead.TookOver);
        Assert.Equal((RunStatus.Running, 2, "node-2", "sixth"), (dead.Run!.Status, dead.Run.Attempt, dead.Run.Node, dead.Run.Execution));
    }

    [Fact]
    public async Task AnExecutionThatLostItsClaim_CanNoLongerJournal_End_Requeue_OrRestTheRun()
    {
        var run = await Store.CreateRunAsync(Some("fenced"), default);
        await Store.StartRunAsync(run.Id, "node-1", new RunExecution("stalled"), default);
        Time.Advance(SqlRunStore.ClaimLease);
        Assert.True((await Store.StartRunAsync(run.Id, "node-2", new RunExecution("rightful"), default)).TookOver);
        var step = new StepOutcome(1, "measure", StepKind.Automated, StepStatus.Running, Time.GetUtcNow(), null, 0, "", null, StepOutcome.MachineActor);

        Assert.False(await Store.SaveStepAsync(run.Id, step, "stalled", default));
        Assert.Empty(await Store.GetStepsAsync(run.Id, default));
        Assert.True(await Store.SaveStepAsync(run.Id, step, "rightful", default));
        Assert.False(await Store.SaveStepAsync(run.Id, step with { Status = StepStatus.Failed }, "stalled", default));
        Assert.False(await Store.FinishRunAsync(run.Id, RunStatus.Failed, "from the stalled node", "stalled", default));
        Assert.False(await Store.RequeueRunAsync(run.Id, "from the stalled node", null, "stalled", default));
        Assert.Null(await Store.RestForHumanAsync(run.Id, Time.GetUtcNow().AddHours(1), "stalled", default));

        // The stalled node's heartbeat learns that the run is no longer its own.
        var seen = Assert.Single(await Store.RenewClaimsAsync([run.Id], "node-1", default));
        Assert.Equal(("rightful", RunStatus.Running), (seen.Claim, seen.Status));
        Assert.Equal(StepStatus.Running, Assert.Single(await Store.GetStepsAsync(run.Id, default)).Status);
        Assert.True(await Store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, "rightful", default));
    }

    [Fact]
    public async Task RequestCancel_ReachesTheRunningNodesHeartbeat()
    {
        var run = await Store.CreateRunAsync(Some("cancel"), default);
        Assert.False(await Store.RequestCancelAsync(run.Id, "alice", default));
        await Store.StartRunAsync(run.Id, "node-1", new RunExecution("claim"), default);

        Assert.True(await Store.RequestCancelAsync(run.Id, "alice", default));

        Assert.Equal("alice", Assert.Single(await Store.RenewClaimsAsync([run.Id], "node-1", default)).CancelRequested);
    }

    [Fact]
    public async Task ClaimOverdueRuns_BehindABacklog_TakesOnlyRunsHandedOverBeforeTheOldestWaitingJob()
    {
        var lost = await Store.CreateRunAsync(Some("lost-in-a-backlog"), default);
        Time.Advance(TimeSpan.FromSeconds(20));
        var waiting = await Store.CreateRunAsync(Some("waiting-in-a-backlog"), default);
        Time.Advance(TimeSpan.FromSeconds(10));
        var bound = TimeSpan.FromSeconds(5);

        // The oldest job still waiting for a worker was enqueued 15 s ago: a run handed over before it is not in the queue.
        var overdue = await Store.ClaimOverdueRunsAsync(Time.GetUtcNow(), bound, Time.GetUtcNow().AddSeconds(-15) - bound, 10, default);

        Assert.Equal([new OverdueRun(lost.Id, RunStatus.Queued)], overdue);
        Assert.NotEqual(lost.Id, waiting.Id);
    }

    [Fact]
    public async Task ClaimOverdueRuns_FindsLostDispatches_OncePerBound()
    {
        var queued = await Store.CreateRunAsync(Some("lost"), default);
        var running = await Store.CreateRunAsync(Some("dead"), default);
        var fresh = await Store.CreateRunAsync(Some("alive"), default);
        var retry = await Store.CreateRunAsync(Some("backoff"), default);
        await Store.StartRunAsync(running.Id, "node-1", new RunExecution("dead"), default);
        await Store.StartRunAsync(fresh.Id, "node-1", new RunExecution("alive"), default);
        await Store.StartRunAsync(retry.Id, "node-1", new RunExecution("backoff"), default);
        await Store.RequeueRunAsync(retry.Id, "attempt 1 failed", Time.GetUtcNow().AddMinutes(1), "backoff", default);
        var bound = TimeSpan.FromSeconds(5);

        var tooSoon = await Store.ClaimOverdueRunsAsync(Time.GetUtcNow(), bound, Time.GetUtcNow() - bound, 10, default);
        Time.Advance(bound);
        await Store.RenewClaimsAsync([fresh.Id], "node-1", default);
        var busy = await Store.ClaimOverdueRunsAsync(Time.GetUtcNow(), bound, null, 10, default);
        var overdue = await Store.ClaimOverdueRunsAsync(Time.GetUtcNow(), bound, Time.GetUtcNow() - bound, 10, default);
        var again = await Store.ClaimOverdueRunsAsync(Time.GetUtcNow(), bound, Time.GetUtcNow() - bound, 10, default);
        Time.Advance(bound);
        await Store.RenewClaimsAsync([fresh.Id], "node-1", default);
        var nextBound = await Store.ClaimOverdueRunsAsync(Time.GetUtcNow(), bound, Time.GetUtcNow() - bound, 10, default);

        Assert.Empty(tooSoon);
        Assert.Equal([new OverdueRun(running.Id, RunStatus.Running)], busy);
        Assert.Equal([new OverdueRun(queued.Id, RunStatus.Queued)], overdue);
        Assert.Empty(again);
        Assert.Equal(new[] { queued.Id, running.Id }.Order(), nextBound.Select(r => r.RunId).Order());
    }

    [Fact]
    public async Task StartRun_TakesAQueuedRunOnce_AndARunningOneOnlyWhenRecovering()
    {
        var run = await Store.CreateRunAsync(Some("start"), default);

        var first = (await Store.StartRunAsync(run.Id, "node-1", recovering: false, default)).Run;
        var again = (await Store.StartRunAsync(run.Id, "node-2", recovering: false, default)).Run;
        Time.Advance(TimeSpan.FromSeconds(5));
        var recovered = (await Store.StartRunAsync(run.Id, "node-2", recovering: true, default)).Run;

        Assert.Equal((RunStatus.Running, 1, "node-1"), (first!.Status, first.Attempt, first.Node));
        Assert.Null(again);
        Assert.Equal((2, "node-2", first.StartedAt), (recovered!.Attempt, recovered.Node, recovered.StartedAt));
    }

    [Fact]
    public async Task StartRun_WaitsInOrder_WhileAnotherRunHoldsItsConcurrencyKey()
    {
        var first = await Store.CreateRunAsync(Some("keyed") with { ConcurrencyKey = "keyed:web-1" }, default);
        Time.Advance(TimeSpan.FromMilliseconds(5));
        var second = await Store.CreateRunAsync(Some("keyed") with { ConcurrencyKey = "keyed:web-1" }, default);
        var other = await Store.CreateRunAsync(Some("keyed") with { ConcurrencyKey = "keyed:web-2" }, default);

        var secondFirst = await Store.StartRunAsync(second.Id, "node-1", recovering: false, default);
        var firstStarts = await Store.StartRunAsync(first.Id, "node-1", recovering: false, default);
        var otherStarts = await Store.StartRunAsync(other.Id, "node-1", recovering: false, default);
        var secondWhileHeld = await Store.StartRunAsync(second.Id, "node-1", recovering: false, default);
        await Store.FinishRunAsync(first.Id, RunStatus.Succeeded, null, default);
        var secondAfter = await Store.StartRunAsync(second.Id, "node-1", recovering: false, default);

        Assert.Equal((null, first.Id), (secondFirst.Run, secondFirst.BlockedBy));
        Assert.NotNull(firstStarts.Run);
        Assert.NotNull(otherStarts.Run);
        Assert.Equal(first.Id, secondWhileHeld.BlockedBy);
        Assert.Equal(RunStatus.Running, secondAfter.Run!.Status);
        Assert.Null(await Store.ActiveRunForKeyAsync("keyed:web-9", default));
        Assert.Equal(second.Id, await Store.ActiveRunForKeyAsync("keyed:web-1", default));
    }

    [Fact]
    public async Task FinishRun_IsFinal()
    {
        var run = await Store.CreateRunAsync(Some("finish"), default);
        await Store.StartRunAsync(run.Id, "node-1", recovering: false, default);

        var failed = await Store.FinishRunAsync(run.Id, RunStatus.Failed, "step 'x' failed: boom", default);
        var overwritten = await Store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, default);
        var read = await Store.GetRunAsync(run.Id, default);

        Assert.True(failed);
        Assert.False(overwritten);
        Assert.Equal((RunStatus.Failed, "step 'x' failed: boom", Time.GetUtcNow()), (read!.Status, read.Error, read.FinishedAt));
    }

    [Fact]
    public async Task WaitingForHuman_IsNotFinal()
    {
        var run = await Store.CreateRunAsync(Some("human"), default);

        await Store.FinishRunAsync(run.Id, RunStatus.WaitingForHuman, "step 2 was in flight", default);
        var resumed = await Store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, default);

        Assert.True(resumed);
        Assert.Null((await Store.GetRunAsync(run.Id, default))!.Error);
    }

    [Fact]
    public async Task Steps_RoundTripEveryField_AndUpsertBySequence()
    {
        var run = await Store.CreateRunAsync(Some("steps"), default);
        var started = Time.GetUtcNow();
        var running = new StepOutcome(1, "measure", StepKind.Automated, StepStatus.Running, started, null, 0, "", null, StepOutcome.MachineActor, Idempotent: true);
        var approval = new StepOutcome(2, "Approve: go?", StepKind.Approval, StepStatus.Succeeded, started, started.AddMinutes(3), 1, "", null,
            "alice", null, true, started.AddMinutes(1), 5.5, "fine");

        await Store.SaveStepAsync(run.Id, running, default);
        await Store.SaveStepAsync(run.Id, approval, default);
        var finished = running with { Status = StepStatus.Succeeded, FinishedAt = started.AddSeconds(2), Attempts = 2, Output = "93%\n", ResultJson = "93" };
        await Store.SaveStepAsync(run.Id, finished, default);

        Assert.Equal([finished, approval], await Store.GetStepsAsync(run.Id, default));
        Assert.Equal(approval, await Store.FindStepAsync(run.Id, 2, default));
        Assert.Null(await Store.FindStepAsync(run.Id, 3, default));
    }

    [Fact]
    public async Task Migrate_IsIdempotent_AndRefusesANewerSchema()
    {
        await Store.MigrateAsync(default);
        await MarkSchemaVersionAsync(99);

        var error = await Assert.ThrowsAsync<SchemaTooNewException>(() => Store.MigrateAsync(default));

        Assert.Equal($"the database schema is at version 99, newer than this RunbookEngine understands ({Migrations.Latest}); upgrade RunbookEngine, or point it at another database", error.Message);
    }

    [Fact]
    public async Task SaveCalls_ReadBackInOrder_NumberedAfterTheRunsEarlierCalls()
    {
        var run = await Store.CreateRunAsync(Some("caller"), default);
        var at = Time.GetUtcNow();
        var measured = new RecordedCall(1, 1, 1, RecordedCall.CommandKind, "df --output=pcent /var", 0, "Use%\n 91%\n", "", TimeSpan.FromMilliseconds(12), at);
        var probed = new RecordedCall(1, 2, 2, RecordedCall.HttpKind, "GET http://127.0.0.1:8089/", 503, "down", "text/plain", TimeSpan.FromMilliseconds(3), at);
        var resumed = new RecordedCall(1, 1, 3, RecordedCall.CommandKind, "true", 0, "", null, TimeSpan.Zero, at.AddMinutes(5));

        await Store.SaveCallsAsync(run.Id, [measured, probed], null, default);
        await Store.SaveCallsAsync(run.Id, [resumed], null, default);

        Assert.Equal([measured, probed, resumed with { Sequence = 3 }], await Store.GetCallsAsync(run.Id, default));
        Assert.Empty(await Store.GetCallsAsync("no-such-run", default));
    }

    [Fact]
    public async Task SaveCalls_OfAnExecutionThatLostItsClaim_AreNotKept_WhileTheRightfulExecutionsAre()
    {
        var run = await Store.CreateRunAsync(Some("fenced-calls"), default);
        await Store.StartRunAsync(run.Id, "node-1", new RunExecution("stalled"), default);
        Time.Advance(SqlRunStore.ClaimLease);
        Assert.True((await Store.StartRunAsync(run.Id, "node-2", new RunExecution("rightful"), default)).TookOver);
        var late = new RecordedCall(1, 1, 1, RecordedCall.CommandKind, "systemctl restart api", 0, "", null, TimeSpan.Zero, Time.GetUtcNow());
        var rightful = new RecordedCall(2, 1, 1, RecordedCall.CommandKind, "true", 0, "", null, TimeSpan.Zero, Time.GetUtcNow());

        var lateKept = await Store.SaveCallsAsync(run.Id, [late], "stalled", default);
        var rightfulKept = await Store.SaveCallsAsync(run.Id, [rightful], "rightful", default);

        Assert.Equal((false, true), (lateKept, rightfulKept));
        Assert.Equal([rightful], await Store.GetCallsAsync(run.Id, default));
    }

    [Fact]
    public async Task ACallRecorder_KeepsAtMost500CallsAnAttempt_AndANoteOfTheRest()
    {
        var run = await Store.CreateRunAsync(Some("chatty"), default);
        var recorder = new StoreCallRecorder(run.Id, 1, Time);
        for (var i = 0; i < RecordedCall.MaxPerAttempt + 7; i++)
        {
            recorder.Command(1, new RunbookEngine.Sdk.Hosting.CommandCall(["true"], $"poll {i}", null, null, true, null, "poll"), new ShellResult($"poll {i}", 0, "", "", TimeSpan.Zero));
        }

        await recorder.FlushAsync(Store, null, default);

        var calls = await Store.GetCallsAsync(run.Id, default);
        Assert.Equal(RecordedCall.MaxPerAttempt + 1, calls.Count);
        Assert.Equal($"poll {RecordedCall.MaxPerAttempt - 1}", calls[^2].Request);
        Assert.Equal((RecordedCall.OmittedKind, 7), (calls[^1].Kind, calls[^1].Status));
    }

    protected abstract Task MarkSchemaVersionAsync(int version);

    private static NewRun Some(string runbook) => new(runbook, null, "hash", RunTrigger.Manual, "tester");
}
