using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk.Tests;

public sealed class StepTests
{
    [Fact]
    public async Task Step_ReturnsItsValue_AndJournalsBeforeAndAfter()
    {
        var journal = new RecordingJournal();
        var context = Some.Context(journal: journal);

        var value = await context.Step("answer", _ => Task.FromResult(42));

        Assert.Equal(42, value);
        Assert.Equal([StepStatus.Running, StepStatus.Succeeded], journal.Writes.Select(w => w.Status));
        var outcome = Assert.Single(context.Steps);
        Assert.Equal((1, "answer", StepStatus.Succeeded, 1, "42", StepOutcome.MachineActor), (outcome.Sequence, outcome.Name, outcome.Status, outcome.Attempts, outcome.ResultJson, outcome.Actor));
        Assert.NotNull(outcome.FinishedAt);
    }

    [Fact]
    public async Task Step_RetriesWithDoublingBackoff_UntilItSucceeds()
    {
        var time = new ObservedClock();
        var context = Some.Context(time: time);
        var attemptTimes = new List<DateTimeOffset>();

        var step = context.Step("flaky", _ =>
        {
            attemptTimes.Add(time.GetUtcNow());
            return attemptTimes.Count < 3 ? throw new InvalidOperationException("not yet") : Task.FromResult("ok");
        }, retries: 3, backoff: TimeSpan.FromSeconds(10));
        var delays = new[] { await time.AdvanceToNextTimerAsync(), await time.AdvanceToNextTimerAsync() };

        Assert.Equal("ok", await step);
        Assert.Equal([TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(20)], delays);
        var start = attemptTimes[0];
        Assert.Equal([TimeSpan.Zero, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)], attemptTimes.Select(t => t - start));
        Assert.Equal(3, context.Steps.Single().Attempts);
        Assert.Contains("attempt 1 failed: InvalidOperationException: not yet", context.Steps.Single().Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Step_Fails_AfterItsLastRetry()
    {
        var context = Some.Context();
        var calls = 0;

        var error = await Assert.ThrowsAsync<StepFailedException>(() => context.Step("always fails", _ =>
        {
            calls++;
            throw new IOException("disk on fire");
        }, retries: 2));

        Assert.Equal(3, calls);
        Assert.Equal((StepStatus.Failed, 3), (error.Outcome.Status, error.Outcome.Attempts));
        Assert.Equal("step 'always fails' failed after 3 attempts: IOException: disk on fire", error.Message);
        Assert.IsType<IOException>(error.InnerException);
    }

    [Fact]
    public async Task Step_TimesOut_EvenWhenItsCodeIgnoresTheToken()
    {
        var time = new ObservedClock();
        var context = Some.Context(time: time);
        var hang = new TaskCompletionSource();

        var step = context.Step("hangs", _ => hang.Task, timeout: TimeSpan.FromSeconds(5));
        await time.AdvanceToNextTimerAsync();

        var error = await Assert.ThrowsAsync<StepFailedException>(() => step);
        Assert.Equal(StepStatus.TimedOut, error.Outcome.Status);
        Assert.Equal("timed out after 5s", error.Outcome.Error);
    }

    [Fact]
    public async Task Step_IsCancelled_WhenTheRunIsCancelled()
    {
        using var cancel = new CancellationTokenSource();
        var context = Some.Context(cancellationToken: cancel.Token);
        var started = new TaskCompletionSource();

        var step = context.Step("long", async token =>
        {
            started.SetResult();
            await Waiting.UntilCancelled<bool>(token);
        }, retries: 5);
        await started.Task;
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => step);
        var outcome = context.Steps.Single();
        Assert.Equal((StepStatus.Cancelled, 1), (outcome.Status, outcome.Attempts));
    }

    [Fact]
    public async Task Step_WithATimeoutTheRuntimeCannotArm_IsRefusedBeforeItIsJournaled()
    {
        var journal = new RecordingJournal();
        var context = Some.Context(journal: journal);

        var error = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => context.Step("forever", _ => Task.CompletedTask, timeout: TimeSpan.FromDays(60)));

        Assert.Contains("at most 30d", error.Message, StringComparison.Ordinal);
        Assert.Empty(journal.Writes);
    }

    [Fact]
    public async Task Step_InsideAStep_IsRefused()
    {
        var context = Some.Context();

        var error = await Assert.ThrowsAsync<StepFailedException>(() => context.Step("outer", _ => context.Step("inner", _ => Task.CompletedTask)));

        Assert.Contains("steps cannot be nested", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Step_AlreadySucceededInTheJournal_ReturnsTheRecordedResultWithoutRunning()
    {
        var journal = new InMemoryStepJournal();
        await journal.StepFinishedAsync(Finished(1, "measure", StepStatus.Succeeded, resultJson: "{\"Percent\":93,\"Mount\":\"/var\"}"), default);
        var context = Some.Context(journal: journal);
        var ran = false;

        var usage = await context.Step("measure", _ =>
        {
            ran = true;
            return Task.FromResult(new Usage(0, ""));
        });

        Assert.False(ran);
        Assert.Equal(new Usage(93, "/var"), usage);
    }

    [Fact]
    public async Task Step_InFlightWhenTheRunDied_IsNotRepeated_UnlessIdempotent()
    {
        var journal = new InMemoryStepJournal();
        await journal.StepStartedAsync(Finished(1, "delete volume", StepStatus.Running), default);
        await journal.StepStartedAsync(Finished(2, "restart", StepStatus.Running), default);
        var ran = new List<string>();

        var first = Some.Context(journal: journal);
        var error = await Assert.ThrowsAsync<StepInterruptedException>(() => first.Step("delete volume", _ => Record(ran, "delete")));
        var second = Some.Context(journal: journal);
        await second.Step("delete volume", _ => Record(ran, "delete"), idempotent: true);
        await second.Step("restart", _ => Record(ran, "restart"), idempotent: true);

        Assert.Equal((1, "delete volume"), (error.Sequence, error.StepName));
        Assert.Equal(["delete", "restart"], ran);
    }

    [Fact]
    public async Task Step_ResumedOnADifferentScript_IsRefused()
    {
        var journal = new InMemoryStepJournal();
        await journal.StepFinishedAsync(Finished(1, "old name", StepStatus.Succeeded), default);

        var error = await Assert.ThrowsAsync<RunbookFailedException>(() => Some.Context(journal: journal).Step("new name", _ => Task.CompletedTask));

        Assert.Contains("a run resumes only on the script it started with", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DryRun_SkipsStepsWithSideEffects_AndStillRunsTheOthers()
    {
        var context = Some.Context(dryRun: true);
        var ran = new List<string>();

        await context.Step("inspect", _ => Record(ran, "inspect"));
        var deleted = await context.Step("delete", _ =>
        {
            ran.Add("delete");
            return Task.FromResult(7);
        }, sideEffects: true);

        Assert.Equal(["inspect"], ran);
        Assert.Equal(0, deleted);
        Assert.Equal([StepStatus.Succeeded, StepStatus.Skipped], context.Steps.Select(s => s.Status));
    }

    [Fact]
    public async Task Output_IsCappedAtTheLimit_KeepingItsStartAndEnd()
    {
        var context = Some.Context();

        await context.Step("chatty", _ =>
        {
            for (var i = 0; i < 20_000; i++)
            {
                context.Log.Info($"line {i:D5} of a step that writes far more than anyone reads");
            }

            return Task.CompletedTask;
        });

        var output = context.Steps.Single().Output;
        Assert.InRange(output.Length, StepOutcome.MaxOutputLength / 2, StepOutcome.MaxOutputLength + 200);
        Assert.StartsWith("line 00000", output, StringComparison.Ordinal);
        Assert.Contains("line 19999", output, StringComparison.Ordinal);
        Assert.Contains("characters of output cut", output, StringComparison.Ordinal);
    }

    internal sealed record Usage(int Percent, string Mount);

    private static Task Record(List<string> ran, string what)
    {
        ran.Add(what);
        return Task.CompletedTask;
    }

    private static StepOutcome Finished(int sequence, string name, StepStatus status, string? resultJson = null) =>
        new(sequence, name, StepKind.Automated, status, DateTimeOffset.UnixEpoch, status == StepStatus.Running ? null : DateTimeOffset.UnixEpoch, 1, "", null, StepOutcome.MachineActor, resultJson);

    private sealed class RecordingJournal : IStepJournal
    {
        public List<StepOutcome> Writes { get; } = [];

        public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) => ValueTask.FromResult<StepOutcome?>(null);

        public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
        {
            Writes.Add(outcome);
            return ValueTask.CompletedTask;
        }

        public ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
        {
            Writes.Add(outcome);
            return ValueTask.CompletedTask;
        }
    }
}
