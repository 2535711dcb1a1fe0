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
}
