using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;
using RunbookEngine.Toil;

namespace RunbookEngine.Tests.Runs;

/// <summary>What the run lifecycle asks of its dispatcher, on a real SQLite store and a fake clock, with no scheduler.</summary>
public sealed class RunServiceTests : IAsyncLifetime
{
    private const string Runbook = """
        // ---
        // description: Greets someone
        // parameters:
        //   who: { type: string, required: true }
        // ---
        await Step("greet", ct => Task.CompletedTask);
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-runservice-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RecordingDispatcher _dispatcher = new();
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;
    private RunbookCatalog _catalog = null!;
    private RunService _runs = null!;
    private readonly SecretParameters _secrets = new(new EphemeralDataProtectionProvider());

    public async Task InitializeAsync()
    {
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), _time);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(_folder, "data", "compiled"));
        _catalog = new RunbookCatalog(new OneFolder(Path.Combine(_folder, "runbooks")), _compiler, _store, Path.Combine(_folder, "data"), _time, NullLogger<RunbookCatalog>.Instance);
        _runs = new RunService(_store, _store, _catalog, _dispatcher, new EngineMetrics(), _time, NullLogger<RunService>.Instance, _secrets);
    }

    public async Task DisposeAsync()
    {
        _catalog.Dispose();
        _compiler.Dispose();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task TriggerAsync_RecordsTheRunBeforeDispatchingIt()
    {
        await LoadRunbookAsync();
        RunRecord? seenAtDispatch = null;
        _dispatcher.OnDispatch = async id => seenAtDispatch = await _store.GetRunAsync(id, default);

        var result = await _runs.TriggerAsync("greet", new Dictionary<string, string> { ["who"] = "alice" }, RunTrigger.Manual, "bob", null, default);

        Assert.Equal(TriggerProblem.None, result.Problem);
        Assert.Equal([$"Dispatch {result.Run!.Id}"], _dispatcher.Calls);
        Assert.Equal((result.Run.Id, RunStatus.Queued), (seenAtDispatch?.Id, seenAtDispatch?.Status));
    }

    [Fact]
    public async Task TriggerAsync_DispatchesNothing_WhenAParameterIsMissing()
    {
        await LoadRunbookAsync();

        var result = await _runs.TriggerAsync("greet", new Dictionary<string, string>(), RunTrigger.Manual, "bob", null, default);

        Assert.Equal(TriggerProblem.InvalidParameters, result.Problem);
        Assert.Empty(_dispatcher.Calls);
    }

    [Fact]
    public async Task CancelAsync_OfAQueuedRun_EndsItAndRemovesItsJob()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, "h1", RunTrigger.Manual, "alice"), default);

        var outcome = await _runs.CancelAsync(run.Id, default, by: "bob");

        Assert.Equal(CancelOutcome.Cancelled, outcome);
        Assert.Equal([$"Remove {run.Id}"], _dispatcher.Calls);
        var ended = await _store.GetRunAsync(run.Id, default);
        Assert.Equal((RunStatus.Cancelled, "cancelled before it started by bob"), (ended!.Status, ended.Error));
    }

    [Fact]
    public async Task CancelAsync_OfAQueuedRun_IsCancelled_WhenTheSchedulerCannotRemoveItsJob()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, "h1", RunTrigger.Manual, "alice"), default);
        _dispatcher.RemoveFails = new RunDispatchException("the scheduler is shutting down");

        var outcome = await _runs.CancelAsync(run.Id, default);

        Assert.Equal(CancelOutcome.Cancelled, outcome);
        Assert.Equal(RunStatus.Cancelled, (await _store.GetRunAsync(run.Id, default))!.Status);
    }

    [Fact]
    public async Task CancelAsync_OfARunningRun_InterruptsIt_AndLeavesTheEndToItsExecution()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, "h1", RunTrigger.Manual, "alice"), default);
        await _store.StartRunAsync(run.Id, "node-a", false, default);

        var outcome = await _runs.CancelAsync(run.Id, default);

        Assert.Equal(CancelOutcome.Requested, outcome);
        Assert.Equal([$"Interrupt {run.Id}"], _dispatcher.Calls);
        Assert.Equal(RunStatus.Running, (await _store.GetRunAsync(run.Id, default))!.Status);
    }

    [Fact]
    public async Task CancelAsync_OfAnEndedRun_AsksNothingOfTheScheduler()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, "h1", RunTrigger.Manual, "alice"), default);
        await _store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, default);

        var outcome = await _runs.CancelAsync(run.Id, default);

        Assert.Equal(CancelOutcome.AlreadyEnded, outcome);
        Assert.Empty(_dispatcher.Calls);
    }

    [Fact]
    public async Task AnswerAsync_WakesTheRunNow_OnceTheAnswerIsRecorded()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, "h1", RunTrigger.Manual, "alice"), default);
        await _store.StartRunAsync(run.Id, "node-a", false, default);
        await _store.SaveStepAsync(run.Id, new StepOutcome(1, "Approve: greet?", StepKind.Approval, StepStatus.WaitingForHuman, _time.GetUtcNow(), null, 1, "", null, ""), default);
        await _store.RestForHumanAsync(run.Id, null, default);
        var humans = new HumanSteps(_store, _dispatcher, new EngineMetrics(), Options.Create(new RunbookEngineOptions()), _time, NullLogger<HumanSteps>.Instance);
        _time.Advance(TimeSpan.FromMinutes(2));

        var first = await humans.AnswerAsync(run.Id, 1, new HumanResponse(true, "bob"), default);
        var second = await humans.AnswerAsync(run.Id, 1, new HumanResponse(true, "carol"), default);

        Assert.Equal(HumanStepProblem.None, first.Problem);
        Assert.NotEqual(HumanStepProblem.None, second.Problem);
        Assert.Equal([$"Wake {run.Id}"], _dispatcher.Calls);
    }

    [Fact]
    public async Task PrepareAttempt_BindsTheSealedSecret_AndFailsTheRunSayingWhy_WhenItsKeyIsNotInTheKeyRing()
    {
        var runbooks = Directory.CreateDirectory(Path.Combine(_folder, "runbooks")).FullName;
        await File.WriteAllTextAsync(Path.Combine(runbooks, "vault.csx"), """
            // ---
            // description: Uses a secret
            // parameters:
            //   token: { type: string, secret: true, required: true }
            // ---
            await Step("use it", ct => Task.CompletedTask);
            """);
        await _catalog.LoadAsync(default);
        var result = await _runs.TriggerAsync("vault", new Dictionary<string, string> { ["token"] = "s3cret-value" }, RunTrigger.Manual, "bob", null, default);
        var run = (await _store.GetRunAsync(result.Run!.Id, default))!;
        var retry = new StoreRetry(_store, _time, NullLogger<StoreRetry>.Instance);

        using var prepared = await RunAttempt.PrepareAsync(run, _catalog, _store, _secrets, retry, default, default);
        using var keyless = await RunAttempt.PrepareAsync(run, _catalog, _store, new SecretParameters(new EphemeralDataProtectionProvider()), retry, default, default);

        Assert.DoesNotContain("s3cret-value", run.ParametersJson, StringComparison.Ordinal);
        Assert.Equal(("s3cret-value", null), (prepared.Parameters?.Get<string>("token"), prepared.Error));
        Assert.Null(keyless.Parameters);
        Assert.Contains("cannot be opened: the key that sealed them is not in the key ring", keyless.Error, StringComparison.Ordinal);
    }

    private async Task LoadRunbookAsync()
    {
        var runbooks = Directory.CreateDirectory(Path.Combine(_folder, "runbooks")).FullName;
        await File.WriteAllTextAsync(Path.Combine(runbooks, "greet.csx"), Runbook);
        await _catalog.LoadAsync(default);
        Assert.True(_catalog.Find("greet")?.IsValid, string.Join("; ", _catalog.Find("greet")?.Diagnostics ?? []));
    }
}
