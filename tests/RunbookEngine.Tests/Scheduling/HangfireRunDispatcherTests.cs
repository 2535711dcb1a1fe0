using Hangfire;
using Hangfire.InMemory;
using Hangfire.Storage.Monitoring;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Runs;
using RunbookEngine.Scheduling;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Scheduling;

/// <summary>
/// The Hangfire side of dispatching, on in-memory storage with no server: which jobs each request leaves behind, since
/// that is what the cluster's workers run, and that a job carries the run id and nothing else.
/// </summary>
public sealed class HangfireRunDispatcherTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-11-23T08:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-dispatcher-").FullName;
    private readonly InMemoryStorage _storage = new();
    private readonly RunClaims _claims = new();
    private SqlRunStore _store = null!;
    private HangfireRunDispatcher _dispatcher = null!;

    public async Task InitializeAsync()
    {
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "runs.db"), _time);
        await _store.MigrateAsync(default);
        var client = new BackgroundJobClient(_storage);
        _dispatcher = new HangfireRunDispatcher(() => client, _store, _claims, _time);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _storage.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task DispatchAsync_EnqueuesARunJob_WhoseOnlyArgumentIsTheRunId()
    {
        await _dispatcher.DispatchAsync("run-1", default);

        var job = Assert.Single(_storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10)).Value;
        Assert.Equal(typeof(RunJob), job.Job.Type);
        Assert.Equal(nameof(RunJob.ExecuteAsync), job.Job.Method.Name);
        Assert.Equal(["run-1", null], job.Job.Args);
    }

    [Fact]
    public async Task DispatchAttemptAsync_SchedulesTheAttemptAtItsBackoff()
    {
        var at = _time.GetUtcNow().AddSeconds(30);

        await _dispatcher.DispatchAttemptAsync("run-1", 2, at, default);

        Assert.Empty(_storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10));
        var scheduled = Assert.Single(_storage.GetMonitoringApi().ScheduledJobs(0, 10)).Value;
        Assert.Equal(at.UtcDateTime, scheduled.EnqueueAt);
        Assert.Equal("run-1", scheduled.Job.Args[0]);
    }

    [Fact]
    public async Task WakeAsync_AtAFutureDeadline_Schedules_AndAtAPastOne_EnqueuesNow()
    {
        await _dispatcher.WakeAsync("run-1", _time.GetUtcNow().AddMinutes(30), default);
        await _dispatcher.WakeAsync("run-2", _time.GetUtcNow().AddMinutes(-5), default);
        await _dispatcher.WakeAsync("run-3", null, default);

        var monitoring = _storage.GetMonitoringApi();
        Assert.Equal(["run-1"], monitoring.ScheduledJobs(0, 10).Select(j => (string)j.Value.Job.Args[0]));
        Assert.Equal(["run-2", "run-3"], monitoring.EnqueuedJobs("default", 0, 10).Select(j => (string)j.Value.Job.Args[0]).Order());
    }

    [Fact]
    public async Task RecheckKeyAsync_WithNoDelay_EnqueuesTheNextRunInLineNow()
    {
        await _dispatcher.RecheckKeyAsync("run-1", TimeSpan.Zero, default);

        Assert.Single(_storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10));
    }

    [Fact]
    public async Task InterruptAsync_CancelsTheRunHere_AndAsksTheStore_SoAnyNodeRunningItHears()
    {
        var run = await _store.CreateRunAsync(new NewRun("greet", null, "hash", Sdk.RunTrigger.Manual, "alice"), default);
        await _store.StartRunAsync(run.Id, "node-a", new RunExecution("claim-1"), default);
        using var claim = new RunClaim(run.Id, "claim-1", CancellationToken.None);
        using var registration = _claims.Register(claim);

        await _dispatcher.InterruptAsync(run.Id, default);

        Assert.True(claim.Stopping.IsCancellationRequested);
        Assert.NotNull((await _store.GetRunAsync(run.Id, default))!.CancelRequested);
    }

    [Fact]
    public async Task A_StorageThatFails_IsReportedAsTheStoreBeingAway_WhenItIs()
    {
        var failing = new HangfireRunDispatcher(() => throw new BackgroundJobClientException("creation failed", new Npgsql.NpgsqlException("Failed to connect")), _store, _claims, _time);

        await Assert.ThrowsAsync<Npgsql.NpgsqlException>(() => failing.DispatchAsync("run-1", default));
    }
}
