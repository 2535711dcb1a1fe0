using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Retention;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;
using RunbookEngine.Toil;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.Storage;

/// <summary>Retention on each database: what goes, what stays, and toil reports that do not change.</summary>
public abstract class RetentionStoreContract : StoreContract
{
    private static readonly string[] Services = ["postgres", "web", "queue"];

    private RunHistoryRetention Retention(int batchSize = 1000, TimeSpan? maxAge = null) => new(
        Store,
        Options.Create(new RunbookEngineOptions { Retention = { MaxAge = maxAge ?? TimeSpan.FromDays(90), BatchSize = batchSize, Pause = TimeSpan.Zero } }),
        Time,
        NullLogger<RunHistoryRetention>.Instance);

    private ToilReports Reports() => new(Store, Options.Create(new RunbookEngineOptions { Toil = { UnautomatedAlertMinutes = 10 } }));

    [Fact]
    public async Task Retention_deletes_old_history_keeps_what_is_active_or_young_and_the_toil_reports_do_not_change()
    {
        var seeded = await SeedHistoryAsync();
        var before = await AllReportsAsync(seeded.From, seeded.Until);

        var pass = await Retention().PassAsync(default);
        var after = await AllReportsAsync(seeded.From, seeded.Until);
        var again = await Retention().PassAsync(default);

        var cutoff = Time.GetUtcNow() - TimeSpan.FromDays(90);
        var oldRuns = seeded.Runs.Where(r => r.End < cutoff).Select(r => r.Id).ToList();
        var youngRuns = seeded.Runs.Where(r => r.End >= cutoff).Select(r => r.Id).ToList();
        var oldAlerts = seeded.Alerts.Where(a => a.Received < cutoff && a.Id != seeded.HeldAlert).ToList();
        Assert.True(oldRuns.Count > 20 && youngRuns.Count > 20 && oldAlerts.Count > 20, $"{oldRuns.Count} old runs, {youngRuns.Count} young, {oldAlerts.Count} old alerts");
        Assert.Equal((oldRuns.Count, oldAlerts.Count), (pass.Runs, pass.Alerts));
        Assert.True(pass.Steps >= 2 * oldRuns.Count && pass.Deliveries == oldAlerts.Count, $"{pass.Steps} steps, {pass.Deliveries} deliveries");
        foreach (var id in oldRuns)
        {
            Assert.Null(await Store.GetRunAsync(id, default));
            Assert.Empty(await Store.GetStepsAsync(id, default));
        }

        foreach (var (id, delivery, _) in oldAlerts)
        {
            Assert.Null(await Store.GetAlertAsync(id, default));
            Assert.Null(await Store.GetPayloadAsync(delivery, default));
        }

        foreach (var id in youngRuns)
        {
            Assert.NotEmpty(await Store.GetStepsAsync(id, default));
        }

        Assert.Equal(
            [RunStatus.Queued, RunStatus.Running, RunStatus.WaitingForHuman],
            (await Task.WhenAll(seeded.Active.Select(id => Store.GetRunAsync(id, default)))).Select(r => r!.Status));
        var held = await Store.GetAlertAsync(seeded.HeldAlert, default);
        Assert.NotNull(held);
        Assert.NotNull(await Store.GetPayloadAsync(held.DeliveryRowId, default));
        foreach (var young in seeded.Alerts.Where(a => a.Received >= cutoff))
        {
            Assert.NotNull(await Store.GetAlertAsync(young.Id, default));
        }

        Assert.Equal(before, after);
        Assert.Equal((true, 0, 0, 0, 0), (again.Worked, again.Runs, again.Steps, again.Alerts, again.Deliveries));
    }

    [Fact]
    public async Task A_shadow_run_that_succeeded_saves_nothing_before_retention_summarises_it_and_after()
    {
        var from = Time.GetUtcNow();
        var shadow = await RunAsync("look-only", RunTrigger.Alert, "alert", RunStatus.Succeeded, baseline: 20, humanMinutes: 0);
        await ((ITrustStore)Store).SetModeAsync(shadow.Id, RunMode.Shadow, null, default);
        await RunAsync("acts", RunTrigger.Alert, "alert", RunStatus.Succeeded, baseline: 20, humanMinutes: 0);
        var until = Time.GetUtcNow().AddMinutes(1);
        var before = await Reports().ReportAsync(from, until, ToilGrouping.Runbook, default);
        Time.Advance(TimeSpan.FromDays(100));

        var pass = await Retention().PassAsync(default);
        var after = await Reports().ReportAsync(from, until, ToilGrouping.Runbook, default);

        Assert.Equal(2, pass.Runs);
        foreach (var report in new[] { before, after })
        {
            Assert.Equal(0, report.Groups.Single(g => g.Key == "look-only").MinutesSaved);
            Assert.Equal(20, report.Groups.Single(g => g.Key == "acts").MinutesSaved);
        }
    }

    [Fact]
    public async Task Retention_deletes_the_recorded_calls_of_a_run_it_deletes_and_keeps_those_of_a_young_run()
    {
        async Task<string> EndedRunWithACallAsync()
        {
            var run = await Store.CreateRunAsync(new NewRun("caller", null, "hash", RunTrigger.Manual, "tester"), default);
            await Store.StartRunAsync(run.Id, "node-a", recovering: false, default);
            await Store.SaveCallsAsync(run.Id, [new RecordedCall(1, 1, 1, RecordedCall.CommandKind, "true", 0, "", null, TimeSpan.Zero, Time.GetUtcNow())], null, default);
            await Store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, default);
            return run.Id;
        }

        var old = await EndedRunWithACallAsync();
        Time.Advance(TimeSpan.FromDays(100));
        var young = await EndedRunWithACallAsync();

        await Retention().PassAsync(default);

        Assert.Null(await Store.GetRunAsync(old, default));
        Assert.Empty(await Store.GetCallsAsync(old, default));
        Assert.Single(await Store.GetCallsAsync(young, default));
    }

    [Fact]
    public async Task Retention_works_in_bounded_batches_and_a_second_pass_finds_nothing()
    {
        for (var i = 0; i < 35; i++)
        {
            await RunAsync("prune", RunTrigger.Manual, "alice", RunStatus.Succeeded, 5, 0);
        }

        Time.Advance(TimeSpan.FromDays(91));
        var young = await RunAsync("prune", RunTrigger.Manual, "alice", RunStatus.Succeeded, 5, 0);

        var first = await Retention(batchSize: 10).PassAsync(default);
        var second = await Retention(batchSize: 10).PassAsync(default);

        Assert.Equal((35, 70, 4), (first.Runs, first.Steps, first.RunBatches));
        Assert.Equal((0, 1), (second.Runs, second.RunBatches));
        Assert.NotNull(await Store.GetRunAsync(young.Id, default));
    }

    [Fact]
    public async Task Retention_set_to_zero_keeps_everything()
    {
        var run = await RunAsync("prune", RunTrigger.Manual, "alice", RunStatus.Succeeded, 5, 0);
        Time.Advance(TimeSpan.FromDays(400));

        var pass = await Retention(maxAge: TimeSpan.Zero).PassAsync(default);

        Assert.False(pass.Worked);
        Assert.NotNull(await Store.GetRunAsync(run.Id, default));
    }

    [Fact]
    public async Task An_alert_that_comes_again_after_its_first_was_deleted_is_new_not_a_resend()
    {
        var first = await IngestAsync("alertmanager", "DiskFull", "web", "fp-1", "key-1");
        Time.Advance(TimeSpan.FromDays(91));

        await Retention().PassAsync(default);
        var second = await IngestAsync("alertmanager", "DiskFull", "web", "fp-1", "key-1");

        Assert.Null(await Store.GetAlertAsync(first.Id, default));
        Assert.Null(second.DuplicateOf);
    }

    /// <summary>Every toil report over the window, as JSON, so two can be compared whole.</summary>
    private async Task<string> AllReportsAsync(DateTimeOffset from, DateTimeOffset until)
    {
        var reports = Reports();
        var all = new List<object>();
        foreach (var grouping in Enum.GetValues<ToilGrouping>())
        {
            all.Add(await reports.ReportAsync(from, until, grouping, default));
        }

        // A window that ends among the deleted runs, and one that straddles the cutoff.
        all.Add(await reports.ReportAsync(from, from.AddDays(28), ToilGrouping.Runbook, default));
        all.Add(await reports.ReportAsync(from.AddDays(35), from.AddDays(63), ToilGrouping.Service, default));
        all.Add(await reports.UnautomatedAsync(from, until, default));
        all.Add(await reports.UnautomatedAsync(from.AddDays(7), from.AddDays(49), default));
        all.Add((await Store.ToilRunsAsync(from, until, default)).Count);
        return JsonSerializer.Serialize(all);
    }

    /// <summary>
    /// 132 days of history, a round every 3 days: an alert whose run succeeds (or fails and is retried), a scheduled run,
    /// an alert no runbook handles. Plus, at the start, runs still in flight, and an alert whose run waits for a person
    /// for 30 days and so ends after the cutoff.
    /// </summary>
    private async Task<Seeded> SeedHistoryAsync()
    {
        var runs = new List<(string Id, DateTimeOffset End)>();
        var alerts = new List<(string Id, string Delivery, DateTimeOffset Received)>();
        var from = new DateTimeOffset(Time.GetUtcNow().UtcDateTime.Date, TimeSpan.Zero);
        var active = new List<string>();
        var queued = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Manual, "alice"), default);
        var running = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Manual, "alice"), default);
        await Store.StartRunAsync(running.Id, "node-a", false, default);
        var waiting = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Manual, "alice"), default);
        await Store.StartRunAsync(waiting.Id, "node-a", false, default);
        await Store.SaveStepAsync(waiting.Id, new StepOutcome(1, "Approve", StepKind.Approval, StepStatus.WaitingForHuman, Time.GetUtcNow(), null, 1, "", null, ""), default);
        await Store.RestForHumanAsync(waiting.Id, null, default);
        active.AddRange([queued.Id, running.Id, waiting.Id]);

        string? heldAlert = null;
        RunRecord? heldRun = null;
        for (var i = 0; i < 44; i++)
        {
            var source = i % 2 == 0 ? "alertmanager" : "grafana";
            var alert = await IngestAsync(source, "DiskFull", Services[i % 3], $"fp-{i}", $"key-{i}");
            var record = (await Store.GetAlertAsync(alert.Id, default))!;
            alerts.Add((alert.Id, record.DeliveryRowId, record.ReceivedAt));
            if (i == 10)
            {
                // Received 30 days in, answered 30 days later: after the cutoff, so both the run and its alert stay.
                heldAlert = alert.Id;
                heldRun = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Alert, alert.Id, AlertId: alert.Id, ManualMinutes: 20), default);
                await Store.StartRunAsync(heldRun.Id, "node-a", false, default);
                await Store.SaveStepAsync(heldRun.Id, new StepOutcome(1, "Approve", StepKind.Approval, StepStatus.WaitingForHuman, Time.GetUtcNow(), null, 1, "", null, ""), default);
            }
            else
            {
                var status = i % 4 == 1 ? RunStatus.Failed : RunStatus.Succeeded;
                var run = await RunAsync("prune", RunTrigger.Alert, alert.Id, status, 20, i % 5, alert.Id);
                runs.Add((run.Id, Time.GetUtcNow()));
                if (status == RunStatus.Failed)
                {
                    var retry = await RunAsync("prune", RunTrigger.Retry, run.Id, RunStatus.Succeeded, 20, 0, alert.Id, run.Id);
                    runs.Add((retry.Id, Time.GetUtcNow()));
                }
            }

            if (i % 3 != 2)
            {
                await Store.ResolveAlertsAsync(source, $"fp-{i}", null, Time.GetUtcNow().AddMinutes(i), null, default);
            }

            if (i == 20)
            {
                var at = Time.GetUtcNow();
                await Store.SaveStepAsync(heldRun!.Id, new StepOutcome(1, "Approve", StepKind.Approval, StepStatus.Succeeded, at.AddDays(-30), at, 1, "", null, "bob", PickedUpAt: at.AddMinutes(-9)), default);
                await Store.FinishRunAsync(heldRun.Id, RunStatus.Succeeded, null, default);
                runs.Add((heldRun.Id, Time.GetUtcNow()));
            }

            var scheduled = await RunAsync(i % 2 == 0 ? "rotate-logs" : "vacuum", RunTrigger.Schedule, "cron", i % 7 == 3 ? RunStatus.Cancelled : RunStatus.Succeeded, i % 2 == 0 ? null : 3, 0);
            runs.Add((scheduled.Id, Time.GetUtcNow()));

            var unautomated = await IngestAsync(source, i % 3 == 0 ? "CertExpiring" : "QueueBacklog", Services[i % 3], $"u-{i}", $"u-{i}");
            await Store.SetOutcomeAsync(unautomated.Id, AlertOutcome.Unautomated, "no runbook", default);
            var unautomatedRecord = (await Store.GetAlertAsync(unautomated.Id, default))!;
            alerts.Add((unautomated.Id, unautomatedRecord.DeliveryRowId, unautomatedRecord.ReceivedAt));
            Time.Advance(TimeSpan.FromDays(3));
        }

        return new Seeded(from, from.AddDays(19 * 7), runs, alerts, active, heldAlert!);
    }

    private async Task<StoredAlert> IngestAsync(string source, string name, string service, string fingerprint, string key)
    {
        var stored = await Store.IngestAsync(new WebhookDelivery(source, null, $"{{\"alert\":\"{name}\"}}",
            [new ParsedAlert(new RunbookAlert(source, name, AlertStatus.Firing, "warning", new Dictionary<string, string> { ["service"] = service },
                new Dictionary<string, string>(), Time.GetUtcNow().AddMinutes(-5), null, fingerprint), key)]), default);
        return stored[0];
    }

    /// <summary>A run with a step that only has output, one that declares an estimate and, if people spent minutes, an approval.</summary>
    private async Task<RunRecord> RunAsync(string runbook, RunTrigger trigger, string by, RunStatus status, double? baseline, double humanMinutes, string? alertId = null, string? retryOf = null)
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h", trigger, by, RetryOf: retryOf, AlertId: alertId, ManualMinutes: baseline), default);
        Time.Advance(TimeSpan.FromSeconds(7));
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        var at = Time.GetUtcNow();
        await Store.SaveStepAsync(run.Id, new StepOutcome(1, "look", StepKind.Automated, StepStatus.Succeeded, at, at.AddSeconds(2), 1, "a long output\n", null, "runbook"), default);
        await Store.SaveStepAsync(run.Id, new StepOutcome(2, "fix", StepKind.Automated, StepStatus.Succeeded, at.AddSeconds(2), at.AddSeconds(30), 1, "", null, "runbook", ManualMinutes: 6), default);
        if (humanMinutes > 0)
        {
            var asked = at.AddSeconds(30);
            await Store.SaveStepAsync(run.Id, new StepOutcome(3, "Approve", StepKind.Approval, StepStatus.Succeeded, asked, asked.AddMinutes(humanMinutes + 1), 1, "", null, "bob",
                PickedUpAt: asked.AddMinutes(1)), default);
        }

        Time.Advance(TimeSpan.FromMinutes(humanMinutes + 2.5));
        await Store.FinishRunAsync(run.Id, status, status == RunStatus.Succeeded ? null : "it broke", default);
        return run;
    }

    private sealed record Seeded(
        DateTimeOffset From,
        DateTimeOffset Until,
        IReadOnlyList<(string Id, DateTimeOffset End)> Runs,
        IReadOnlyList<(string Id, string Delivery, DateTimeOffset Received)> Alerts,
        IReadOnlyList<string> Active,
        string HeldAlert);
}

public sealed class RetentionStoreOnSqlite : RetentionStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));
}

public sealed class RetentionStoreOnPostgres : RetentionStoreContract
{
    private string _connectionString = "";

    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        _connectionString = await server.CreateDatabaseAsync(nameof(RetentionStoreOnPostgres));
        return SqlRunStore.Postgres(_connectionString, Time);
    }

    [Fact]
    public async Task Only_one_node_deletes_at_a_time()
    {
        await using var otherNode = SqlRunStore.Postgres(_connectionString, Time);
        await using (var held = await Store.TryLockRetentionAsync(default))
        {
            Assert.NotNull(held);
            Assert.Null(await otherNode.TryLockRetentionAsync(default));
        }

        await using var afterwards = await otherNode.TryLockRetentionAsync(default);
        Assert.NotNull(afterwards);
    }
}
