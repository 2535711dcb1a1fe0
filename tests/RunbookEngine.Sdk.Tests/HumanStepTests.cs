using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk.Tests;

public sealed class HumanStepTests
{
    [Fact]
    public async Task Approve_Approved_RecordsWhoAnsweredAndWhen()
    {
        var time = new FakeTimeProvider();
        var gate = new ScriptedGate(new HumanResponse(true, "alice", "go ahead", time.GetUtcNow()));
        var context = Some.Context(time: time, gate: gate);

        await context.Approve("Delete 3 snapshots?");

        var outcome = context.Steps.Single();
        Assert.Equal((StepKind.Approval, StepStatus.Succeeded, "alice", "go ahead"), (outcome.Kind, outcome.Status, outcome.Actor, outcome.Comment));
        Assert.Equal("Approve: Delete 3 snapshots?", outcome.Name);
        Assert.Equal(StepKind.Approval, gate.Requests.Single().Kind);
    }

    [Fact]
    public async Task Approve_Rejected_FailsTheRunWithTheReason()
    {
        var context = Some.Context(gate: new ScriptedGate(new HumanResponse(false, "bob", "not during the sale")));

        var error = await Assert.ThrowsAsync<ApprovalRejectedException>(() => context.Approve("Restart the checkout service?"));

        Assert.Equal("rejected by bob: not during the sale", error.Message);
        Assert.Equal(StepStatus.Failed, context.Steps.Single().Status);
    }

    [Fact]
    public async Task Manual_WithNobodyAnswering_TimesOut()
    {
        var time = new ObservedClock();
        var context = Some.Context(time: time, gate: new SilentGate());

        var wait = context.Manual("Swap the failed disk in rack 4", timeout: TimeSpan.FromMinutes(15));
        await time.AdvanceToNextTimerAsync();

        var error = await Assert.ThrowsAsync<ApprovalRejectedException>(() => wait);
        Assert.Equal("nobody answered within 15m", error.Message);
        Assert.Equal((StepKind.Manual, StepStatus.TimedOut), (context.Steps.Single().Kind, context.Steps.Single().Status));
    }

    [Fact]
    public async Task HumanStep_WithNoWayToAsk_IsRejected()
    {
        var error = await Assert.ThrowsAsync<ApprovalRejectedException>(() => Some.Context().Approve("Proceed?"));

        Assert.StartsWith("nobody can answer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HumanStep_AnsweredInAnEarlierAttempt_IsNotAskedAgain()
    {
        var journal = new InMemoryStepJournal();
        await journal.StepFinishedAsync(new StepOutcome(1, "Approve: Proceed?", StepKind.Approval, StepStatus.Succeeded, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, "", null, "alice"), default);
        var gate = new ScriptedGate();

        await Some.Context(journal: journal, gate: gate).Approve("Proceed?");

        Assert.Empty(gate.Requests);
    }

    [Fact]
    public async Task A_resting_gate_journals_the_question_with_its_terms_and_lets_the_pause_through()
    {
        var time = new FakeTimeProvider();
        var journal = new InMemoryStepJournal();
        var context = Some.Context(time: time, journal: journal, gate: new RestingGate());

        var pause = await Assert.ThrowsAsync<AwaitingHumanException>(() => context.Approve("Delete?", timeout: TimeSpan.FromMinutes(30), role: "dba", differentPerson: true));
        var asked = await journal.FindAsync(1, default);

        Assert.Equal((StepStatus.WaitingForHuman, "dba", true, time.GetUtcNow().AddMinutes(30)), (asked!.Status, asked.Role, asked.DifferentPerson, asked.DueAt));
        Assert.Equal((1, TimeSpan.FromMinutes(30), time.GetUtcNow().AddMinutes(30)), (pause.Request.Sequence, pause.Request.Timeout, pause.Request.DueAt));
    }

    [Fact]
    public async Task A_question_resumed_after_its_deadline_times_out_and_says_so()
    {
        var time = new FakeTimeProvider();
        var journal = new InMemoryStepJournal();
        await Assert.ThrowsAsync<AwaitingHumanException>(() => Some.Context(time: time, journal: journal, gate: new RestingGate()).Approve("Delete?", timeout: TimeSpan.FromMinutes(30)));
        time.Advance(TimeSpan.FromMinutes(30));

        var error = await Assert.ThrowsAsync<ApprovalRejectedException>(() => Some.Context(time: time, journal: journal, gate: new RestingGate()).Approve("Delete?", timeout: TimeSpan.FromMinutes(30)));
        var step = await journal.FindAsync(1, default);

        Assert.True(error.TimedOut);
        Assert.Equal(("nobody answered within 30m", StepStatus.TimedOut), (error.Message, step!.Status));
    }

    [Fact]
    public async Task A_question_resumed_before_its_deadline_is_asked_again_as_first_asked()
    {
        var time = new FakeTimeProvider();
        var journal = new InMemoryStepJournal();
        var first = new RestingGate();
        await Assert.ThrowsAsync<AwaitingHumanException>(() => Some.Context(time: time, journal: journal, gate: first).Approve("Delete?", timeout: TimeSpan.FromMinutes(30)));
        var askedAt = time.GetUtcNow();
        time.Advance(TimeSpan.FromMinutes(10));

        var again = new RestingGate();
        await Assert.ThrowsAsync<AwaitingHumanException>(() => Some.Context(time: time, journal: journal, gate: again).Approve("Delete?", timeout: TimeSpan.FromMinutes(30)));

        Assert.Equal((askedAt, askedAt.AddMinutes(30)), (again.Asked!.AskedAt, again.Asked.DueAt));
    }

    [Fact]
    public async Task A_rejection_recorded_while_the_run_rested_fails_it_on_resume()
    {
        var journal = new InMemoryStepJournal();
        await journal.StepFinishedAsync(new StepOutcome(1, "Approve: Proceed?", StepKind.Approval, StepStatus.Failed, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, 1, "", "rejected by bob: no", "bob"), default);

        var error = await Assert.ThrowsAsync<ApprovalRejectedException>(() => Some.Context(journal: journal, gate: new RestingGate()).Approve("Proceed?"));

        Assert.Equal(("rejected by bob: no", false), (error.Message, error.TimedOut));
    }

    /// <summary>A host's durable gate: it never answers, it pauses the run.</summary>
    private sealed class RestingGate : IHumanGate
    {
        public HumanRequest? Asked { get; private set; }

        public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken)
        {
            Asked = request;
            return Task.FromException<HumanResponse>(new AwaitingHumanException(request));
        }
    }
}
