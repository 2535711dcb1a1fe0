using System.Text;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Catalog;
using RunbookEngine.Execution;
using RunbookEngine.Runs;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Toil;

namespace RunbookEngine.Tests.Runs;

/// <summary>
/// One attempt of a run, start to outcome, with no scheduler: a real SQLite store and catalog, a fake clock, and
/// dispatchers that only record what the lifecycle asked of them.
/// </summary>
public sealed class RunLifecycleTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-lifecycle-").FullName;
    private readonly FakeTimeProvider _time = new(T0);

    // The host's dispatcher (a person's deadline) and the one of the scheduler executing the attempt (everything else).
    private readonly RecordingDispatcher _host = new();
    private readonly RecordingDispatcher _here = new();
    private readonly SecretParameters _secrets = new(new EphemeralDataProtectionProvider());
    private readonly ApplicationLifetime _lifetime = new(NullLogger<ApplicationLifetime>.Instance);
    private readonly EngineMetrics _metrics = new(Prometheus.Metrics.NewCustomRegistry());
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;
    private RunbookCatalog _catalog = null!;
    private ShutdownDrain _drain = null!;
    private RunService _runs = null!;
    private RunLifecycle _lifecycle = null!;

    public async Task InitializeAsync()
    {
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), _time);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(_folder, "data", "compiled"));
        _catalog = new RunbookCatalog(new OneFolder(Path.Combine(_folder, "runbooks")), _compiler, _store, Path.Combine(_folder, "data"), _time, NullLogger<RunbookCatalog>.Instance);
        var options = Options.Create(new RunbookEngineOptions { DataPath = Path.Combine(_folder, "data") });
        _drain = new ShutdownDrain(_lifetime, options, _time);
        _runs = new RunService(_store, _store, _catalog, _host, _metrics, _time, NullLogger<RunService>.Instance, _secrets);
        var retry = new StoreRetry(_store, _time, NullLogger<StoreRetry>.Instance);
        _lifecycle = new RunLifecycle(
            _store, _store, _catalog, _host, _metrics, new RunEvents(_store), new NodeIdentity("node-a"), _drain, _time, NullLogger<RunLifecycle>.Instance, retry,
            new ProcessExecution(options, _store, _metrics, _time, NullLogger<ProcessExecution>.Instance), _secrets);
    }

    public async Task DisposeAsync()
    {
        _drain.Dispose();
        _catalog.Dispose();
        _compiler.Dispose();
        await _store.DisposeAsync();
        try
        {
            Directory.Delete(_folder, recursive: true);
        }
        catch (IOException)
        {
            // A compiled assembly still mapped; the temp folder is the system's to clean.
        }
    }

    [Fact]
    public async Task a_run_that_succeeds_ends_succeeded_and_is_counted_once()
    {
        await LoadAsync("greet", """
            // ---
            // description: Greets
            // ---
            await Step("greet", ct => Task.CompletedTask);
            """);
        var run = await TriggerAsync("greet");

        await ExecuteAsync(run.Id);
        await ExecuteAsync(run.Id, trigger: $"{run.Id}-late");

        var ended = await _store.GetRunAsync(run.Id, default);
        Assert.Equal((RunStatus.Succeeded, 1, "node-a"), (ended!.Status, ended.Attempt, ended.Node));
        Assert.Equal(StepStatus.Succeeded, Assert.Single(await _store.GetStepsAsync(run.Id, default)).Status);
        Assert.Contains("runbookengine_runs_total{runbook=\"greet\",status=\"Succeeded\"} 1\n", await ScrapeAsync(), StringComparison.Ordinal);
        Assert.Empty(_here.Calls);
        Assert.Equal([$"Dispatch {run.Id}"], _host.Calls);
    }

    [Fact]
    public async Task a_failing_run_is_retried_after_a_doubling_backoff_and_fails_after_its_last_retry()
    {
        await LoadAsync("flaky", """
            // ---
            // description: Always breaks
            // retries: 2
            // retry_backoff: 30s
            // ---
            await Step("break", ct => throw new InvalidOperationException("boom"));
            """);
        var run = await TriggerAsync("flaky");

        await ExecuteAsync(run.Id);
        var first = await _store.GetRunAsync(run.Id, default);
        _time.Advance(TimeSpan.FromSeconds(30));
        await ExecuteAsync(run.Id, trigger: $"{run.Id}-attempt-2");
        var second = await _store.GetRunAsync(run.Id, default);
        _time.Advance(TimeSpan.FromSeconds(60));
        await ExecuteAsync(run.Id, trigger: $"{run.Id}-attempt-3");

        Assert.Equal((RunStatus.Queued, 1), (first!.Status, first.Attempt));
        Assert.Contains("attempt 2 at 08:00:30 UTC", first.Error, StringComparison.Ordinal);
        Assert.Equal((RunStatus.Queued, 2), (second!.Status, second.Attempt));
        Assert.Equal(
            [$"DispatchAttempt {run.Id} 2 {T0.AddSeconds(30):O}", $"DispatchAttempt {run.Id} 3 {T0.AddSeconds(30 + 60):O}"],
            _here.Calls);
        var ended = await _store.GetRunAsync(run.Id, default);
        Assert.Equal((RunStatus.Failed, 3), (ended!.Status, ended.Attempt));
        Assert.Contains("boom", ended.Error, StringComparison.Ordinal);
        Assert.Contains("runbookengine_runs_total{runbook=\"flaky\",status=\"Failed\"} 1\n", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_failing_run_whose_retry_the_scheduler_refuses_stays_queued_for_the_watchdog_until_its_backoff()
    {
        await LoadAsync("flaky", """
            // ---
            // description: Always breaks
            // retries: 2
            // ---
            await Step("break", ct => throw new InvalidOperationException("boom"));
            """);
        var run = await TriggerAsync("flaky");
        _here.DispatchAttemptFails = new RunbookEngine.Scheduling.RunDispatchException("the scheduler is shutting down", new InvalidOperationException());

        await ExecuteAsync(run.Id);

        var after = await _store.GetRunAsync(run.Id, default);
        Assert.Equal((RunStatus.Queued, 1), (after!.Status, after.Attempt));
        Assert.Contains("attempt 2 at", after.Error, StringComparison.Ordinal);

        // Due at its backoff in the store, so the watchdog dispatches it then, not at once.
        Assert.Empty(await _store.ClaimOverdueRunsAsync(_time.GetUtcNow().AddSeconds(10), RunWatchdog.Bound, _time.GetUtcNow().AddSeconds(5), 10, default));
        _time.Advance(TimeSpan.FromHours(1));
        Assert.Equal([new OverdueRun(run.Id, RunStatus.Queued)], await _store.ClaimOverdueRunsAsync(_time.GetUtcNow(), RunWatchdog.Bound, _time.GetUtcNow() - RunWatchdog.Bound, 10, default));
    }

    [Fact]
    public async Task a_run_whose_key_is_busy_waits_in_its_place_and_goes_as_soon_as_the_holder_ends()
    {
        await LoadAsync("disk", DiskRunbook("queue"));
        var holder = await TriggerAsync("disk", ("path", "/var"));
        _time.Advance(TimeSpan.FromSeconds(1));
        var waiting = await TriggerAsync("disk", ("path", "/var"));
        Assert.NotNull((await _store.StartRunAsync(holder.Id, "node-b", false, default)).Run);

        await ExecuteAsync(waiting.Id);

        Assert.Empty(_here.Calls);
        Assert.DoesNotContain(_host.Calls, call => call.StartsWith("RecheckKey", StringComparison.Ordinal));
        Assert.Equal((RunStatus.Queued, 0), await StatusAsync(waiting.Id));
        Assert.DoesNotContain("runbookengine_runs_total{", await ScrapeAsync(), StringComparison.Ordinal);

        // node-b died; this node takes the holder over, and it ends: the run waiting for its key is dispatched at once.
        _time.Advance(SqlRunStore.ClaimLease);
        await ExecuteAsync(holder.Id);

        Assert.Equal((RunStatus.Succeeded, 2), await StatusAsync(holder.Id));
        Assert.Equal([$"RecheckKey {waiting.Id} {TimeSpan.Zero}"], _host.Calls.Where(call => call.StartsWith("RecheckKey", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task a_run_whose_key_is_busy_and_that_refuses_to_wait_ends_cancelled()
    {
        await LoadAsync("disk", DiskRunbook("refuse"));
        var holder = await TriggerAsync("disk", ("path", "/var"));
        Assert.NotNull((await _store.StartRunAsync(holder.Id, "node-b", false, default)).Run);
        _time.Advance(TimeSpan.FromSeconds(1));

        // Queued by a trigger that raced the holder's: the check at trigger time did not see it.
        var refused = await _store.CreateRunAsync(new NewRun("disk", null, holder.ContentHash, RunTrigger.Manual, "alice", holder.ParametersJson, holder.ConcurrencyKey), default);
        await ExecuteAsync(refused.Id);

        var ended = await _store.GetRunAsync(refused.Id, default);
        Assert.Equal((RunStatus.Cancelled, $"refused: run {holder.Id} holds concurrency key disk:disk:/var"), (ended!.Status, ended.Error));
        Assert.Empty(_here.Calls);
        Assert.Contains("runbookengine_runs_total{runbook=\"disk\",status=\"Cancelled\"} 1\n", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_run_that_reaches_a_manual_step_rests_and_is_woken_at_the_step_deadline()
    {
        await LoadAsync("swap", """
            // ---
            // description: A person swaps the disk
            // ---
            await Manual("Swap the disk in rack 4", timeout: TimeSpan.FromMinutes(30));
            """);
        var run = await TriggerAsync("swap");

        await ExecuteAsync(run.Id);

        Assert.Equal((RunStatus.WaitingForHuman, 1), await StatusAsync(run.Id));
        var step = Assert.Single(await _store.GetStepsAsync(run.Id, default));
        Assert.Equal((StepKind.Manual, StepStatus.WaitingForHuman, (DateTimeOffset?)T0.AddMinutes(30)), (step.Kind, step.Status, step.DueAt));
        Assert.Equal([$"Dispatch {run.Id}", $"Wake {run.Id} {T0.AddMinutes(30):O}"], _host.Calls);
        Assert.Empty(_here.Calls);
        Assert.DoesNotContain("runbookengine_runs_total{", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_cancelled_run_is_not_started()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, new string('a', 64), RunTrigger.Manual, "alice"), default);
        await _store.FinishRunAsync(run.Id, RunStatus.Cancelled, "cancelled before it started by bob", default);

        await ExecuteAsync(run.Id);

        Assert.Equal((RunStatus.Cancelled, 0), await StatusAsync(run.Id));
        Assert.Empty(_here.Calls);
        Assert.Empty(_host.Calls);
        Assert.DoesNotContain("runbookengine_runs_total{", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_run_another_node_already_runs_is_not_started_again()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, new string('a', 64), RunTrigger.Manual, "alice"), default);
        await _store.StartRunAsync(run.Id, "node-b", false, default);

        await ExecuteAsync(run.Id);

        var still = await _store.GetRunAsync(run.Id, default);
        Assert.Equal((RunStatus.Running, 1, "node-b"), (still!.Status, still.Attempt, still.Node));
        Assert.Empty(_here.Calls);
        Assert.Empty(_host.Calls);
    }

    [Fact]
    public async Task a_run_whose_version_is_gone_ends_failed_saying_why()
    {
        var run = await _store.CreateRunAsync(new NewRun("gone", null, new string('a', 64), RunTrigger.Manual, "alice"), default);

        await ExecuteAsync(run.Id);

        var ended = await _store.GetRunAsync(run.Id, default);
        Assert.Equal((RunStatus.Failed, "version aaaaaaaaaaaa of runbook 'gone' is not in the version store"), (ended!.Status, ended.Error));
        Assert.Empty(await _store.GetStepsAsync(run.Id, default));
        Assert.Empty(_here.Calls);
        Assert.Contains("runbookengine_runs_total{runbook=\"gone\",status=\"Failed\"} 1\n", await ScrapeAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_run_whose_version_does_not_compile_ends_failed_with_the_compiler_errors()
    {
        await LoadAsync("broken", """
            // ---
            // description: Does not compile
            // ---
            int count = "three";
            await Step("oops", ct => Task.CompletedTask);
            """, valid: false);
        var hash = _catalog.Find("broken")!.ContentHash;
        var run = await _store.CreateRunAsync(new NewRun("broken", null, hash, RunTrigger.Manual, "alice"), default);

        await ExecuteAsync(run.Id);

        var ended = await _store.GetRunAsync(run.Id, default);
        Assert.Equal(RunStatus.Failed, ended!.Status);
        Assert.StartsWith($"version {hash[..12]} of runbook 'broken' does not compile: ", ended.Error, StringComparison.Ordinal);
        Assert.Empty(_here.Calls);
    }

    private static string DiskRunbook(string onConflict) => """
        // ---
        // description: Cleans a disk
        // parameters:
        //   path: { type: string, required: true }
        // concurrency: "disk:{{ params.path }}"
        // on_conflict: ON_CONFLICT
        // ---
        await Step("clean", ct => Task.CompletedTask);
        """.Replace("ON_CONFLICT", onConflict, StringComparison.Ordinal);

    private async Task LoadAsync(string name, string text, bool valid = true)
    {
        var runbooks = Directory.CreateDirectory(Path.Combine(_folder, "runbooks")).FullName;
        await File.WriteAllTextAsync(Path.Combine(runbooks, $"{name}.csx"), text);
        await _catalog.LoadAsync(default);
        Assert.Equal(valid, _catalog.Find(name)?.IsValid);
    }

    private async Task<RunRecord> TriggerAsync(string runbook, params (string Name, string Value)[] parameters)
    {
        var result = await _runs.TriggerAsync(runbook, parameters.ToDictionary(p => p.Name, p => p.Value), RunTrigger.Manual, "alice", null, default);
        Assert.True(result.Run is not null, string.Join("; ", result.Errors));
        return result.Run;
    }

    /// <summary>One delivery of the run's job, as the scheduler would make it: a claim of its own.</summary>
    private Task ExecuteAsync(string runId, string? trigger = null) =>
        _lifecycle.ExecuteAsync(runId, new RunExecution(trigger ?? Guid.NewGuid().ToString("N")), _here, CancellationToken.None);

    private async Task<(RunStatus, int)> StatusAsync(string runId) => (await _store.GetRunAsync(runId, default)) is { } run ? (run.Status, run.Attempt) : default;

    private async Task<string> ScrapeAsync()
    {
        using var stream = new MemoryStream();
        await _metrics.Registry.CollectAndExportAsTextAsync(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
