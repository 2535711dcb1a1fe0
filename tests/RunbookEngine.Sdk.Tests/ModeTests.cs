using System.Net;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk.Tests;

/// <summary>Shadow mode runs only what reads and proposes the rest; confirm mode asks a person before the first side effect.</summary>
public sealed class ModeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-modes-").FullName;

    private string Sentinel => Path.Combine(_folder, "sentinel");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task Shadow_StopsBeforeTheFirstSideEffectStep_AndProposesIt()
    {
        var context = Some.Context(mode: RunMode.Shadow, parameters: new RunbookParameters(new Dictionary<string, object?> { ["unit"] = "nginx", ["token"] = "s3cret" }, ["token"]));
        var reads = 0;

        await context.Step("look", _ => { reads++; return Task.CompletedTask; });
        var error = await Assert.ThrowsAsync<RunProposedException>(() => context.Step("restart", _ =>
        {
            File.WriteAllText(Sentinel, "acted");
            return Task.CompletedTask;
        }, sideEffects: true, description: "restart nginx"));

        Assert.Equal(1, reads);
        Assert.False(File.Exists(Sentinel));
        Assert.Equal(new RunProposal("restart", "restart nginx", "step", null, error.Proposal.Parameters), context.Proposal);
        Assert.Equal("nginx", error.Proposal.Parameters["unit"]);
        Assert.Equal("***", error.Proposal.Parameters["token"]);
        Assert.Equal([("look", StepStatus.Succeeded), ("restart", StepStatus.Skipped)], context.Steps.Select(s => (s.Name, s.Status)));
    }

    [Fact]
    public async Task Shadow_RunsReadOnlyCommands_AndProposesOneThatIsNot_EvenInAStepThatSaysItChangesNothing()
    {
        var context = Some.Context(mode: RunMode.Shadow);

        var echoed = await context.Shell($"echo hello", readOnly: true);
        var error = await Assert.ThrowsAsync<RunProposedException>(() => context.Step("tidy", async ct =>
        {
            await context.Shell($"touch {Sentinel}", ct);
        }, retries: 3));

        Assert.Equal("hello", echoed.StdOut.Trim());
        Assert.False(File.Exists(Sentinel));
        Assert.Equal(("tidy", "command", $"touch {Sentinel}"), (error.Proposal.Step, error.Proposal.Action, error.Proposal.Detail));
        Assert.Equal((StepStatus.Skipped, 1), (context.Steps.Single().Status, context.Steps.Single().Attempts));
    }

    [Fact]
    public async Task Shadow_ProposesARequestThatChangesSomething_ButSendsOneThatReads()
    {
        var server = new CountingHandler();
        var context = Some.Context(mode: RunMode.Shadow, http: server);

        var read = await context.Http.GetAsync(new Uri("http://service.test/health"));
        var error = await Assert.ThrowsAsync<RunProposedException>(() => context.Http.PostAsync(new Uri("http://service.test/restart"), null));

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(["GET http://service.test/health"], server.Seen);
        Assert.Equal(("http", "POST http://service.test/restart"), (error.Proposal.Action, error.Proposal.Detail));
    }

    [Fact]
    public async Task Shadow_AProposalTheScriptSwallows_StillRefusesEverySideEffectAfterIt()
    {
        var context = Some.Context(mode: RunMode.Shadow);

        try
        {
            await context.Step("first", _ => Task.CompletedTask, sideEffects: true);
        }
        catch (RunProposedException)
        {
            // A careless script.
        }

        await Assert.ThrowsAsync<RunProposedException>(() => context.Shell($"touch {Sentinel}"));
        Assert.False(File.Exists(Sentinel));
        Assert.Equal("first", context.Proposal!.Step);
    }

    [Fact]
    public async Task Confirm_AsksOnceBeforeTheFirstSideEffectStep_WithTheRunbooksRules()
    {
        var gate = new ScriptedGate(new HumanResponse(true, "alice"));
        var context = Some.Context(mode: RunMode.Confirm, gate: gate, confirm: new ConfirmSettings("oncall", DifferentPerson: true, ManualMinutes: 2));

        await context.Step("look", _ => Task.CompletedTask);
        await context.Step("restart", _ => { File.WriteAllText(Sentinel, "acted"); return Task.CompletedTask; }, sideEffects: true, description: "restart nginx");
        await context.Step("restart again", _ => Task.CompletedTask, sideEffects: true);

        Assert.True(File.Exists(Sentinel));
        var asked = gate.Requests.Single();
        Assert.Equal((StepKind.Approval, "oncall", true), (asked.Kind, asked.Role, asked.DifferentPerson));
        Assert.Equal("confirm mode: run step 'restart': restart nginx", asked.Text);
        Assert.Equal(["look", "Approve: confirm mode: run step 'restart': restart nginx", "restart", "restart again"], context.Steps.Select(s => s.Name));
        Assert.Equal(2, context.Steps[1].ManualMinutes);
    }

    [Fact]
    public async Task Confirm_Rejected_RunsNothingThatChangesAnything()
    {
        var context = Some.Context(mode: RunMode.Confirm, gate: new ScriptedGate(new HumanResponse(false, "bob", "not now")));

        await Assert.ThrowsAsync<ApprovalRejectedException>(() => context.Step("restart", _ => { File.WriteAllText(Sentinel, "acted"); return Task.CompletedTask; }, sideEffects: true));

        Assert.False(File.Exists(Sentinel));
    }

    [Fact]
    public async Task Confirm_ACommandThatChangesSomethingInAStepThatSaysItDoesNot_FailsTheStepWithoutRunningIt()
    {
        var gate = new ScriptedGate();
        var context = Some.Context(mode: RunMode.Confirm, gate: gate);

        var error = await Assert.ThrowsAsync<StepFailedException>(() => context.Step("tidy", ct => context.Shell($"touch {Sentinel}", ct), retries: 2));

        Assert.False(File.Exists(Sentinel));
        Assert.Empty(gate.Requests);
        Assert.Equal(1, error.Outcome.Attempts);
        Assert.Contains("not declared sideEffects: true", error.Outcome.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirm_ARunbooksOwnApprovalAsStrictAsTheRules_CountsAsTheConfirmation()
    {
        var gate = new ScriptedGate(new HumanResponse(true, "alice"));
        var context = Some.Context(mode: RunMode.Confirm, gate: gate, confirm: new ConfirmSettings("oncall"));

        await context.Approve("Restart nginx?", role: "oncall");
        await context.Step("restart", _ => Task.CompletedTask, sideEffects: true);

        Assert.Single(gate.Requests);
    }

    [Fact]
    public async Task Confirm_ResumedAfterTheApproval_DoesNotAskAgain()
    {
        var journal = new InMemoryStepJournal();
        var first = Some.Context(mode: RunMode.Confirm, journal: journal, gate: new ScriptedGate(new HumanResponse(true, "alice")));
        await first.Step("restart", _ => Task.CompletedTask, sideEffects: true);

        var gate = new ScriptedGate();
        var resumed = Some.Context(mode: RunMode.Confirm, journal: journal, gate: gate);
        await resumed.Step("restart", _ => Task.CompletedTask, sideEffects: true);

        Assert.Empty(gate.Requests);
    }

    private sealed class CountingHandler : HttpMessageHandler
    {
        public List<string> Seen { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Seen.Add($"{request.Method} {request.RequestUri}");
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
