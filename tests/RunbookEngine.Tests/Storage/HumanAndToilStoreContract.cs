using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;
using RunbookEngine.Toil;

namespace RunbookEngine.Tests.Storage;

/// <summary>Human steps at rest, and the reads behind the toil reports, on each database.</summary>
public abstract class HumanAndToilStoreContract : StoreContract
{
    private async Task<(RunRecord Run, StepOutcome Step)> RestingAtApprovalAsync(DateTimeOffset? dueAt = null, string runbook = "prune")
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h1", RunTrigger.Manual, "alice", ManualMinutes: 20), default);
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        var step = new StepOutcome(1, "Approve: delete?", StepKind.Approval, StepStatus.WaitingForHuman, Time.GetUtcNow(), null, 1, "", null, "",
            Idempotent: true, Role: "dba", DifferentPerson: true, DueAt: dueAt);
        await Store.SaveStepAsync(run.Id, step, default);
        return (run, step);
    }

    [Fact]
    public async Task A_resting_run_wakes_only_once_answered_and_the_answer_counts_once()
    {
        var (run, _) = await RestingAtApprovalAsync();
        Assert.Null(await Store.RestForHumanAsync(run.Id, null, default));
        Assert.Empty(await Store.RunsToWakeAsync(Time.GetUtcNow(), 10, default));
        Assert.Null((await Store.StartRunAsync(run.Id, "node-b", false, default)).Run);

        Time.Advance(TimeSpan.FromMinutes(3));
        var first = await Store.AnswerHumanStepAsync(run.Id, 1, new HumanResponse(true, "bob", "looks right", Time.GetUtcNow().AddMinutes(-1)), null, default);
        var second = await Store.AnswerHumanStepAsync(run.Id, 1, new HumanResponse(false, "carol"), "rejected by carol", default);
        var due = await Store.RunsToWakeAsync(Time.GetUtcNow(), 10, default);
        var resumed = await Store.StartRunAsync(run.Id, "node-b", false, default);

        Assert.True(first.Answered);
        Assert.False(second.Answered);
        Assert.Equal((StepStatus.Succeeded, "bob", "looks right", Time.GetUtcNow().AddMinutes(-1), "dba", true), (first.Step!.Status, first.Step.Actor, first.Step.Comment, first.Step.PickedUpAt, first.Step.Role, first.Step.DifferentPerson));
        Assert.Equal(first.Step, second.Step);
        Assert.Equal([run.Id], due);
        Assert.Equal((RunStatus.Running, 1, "node-b"), (resumed.Run!.Status, resumed.Run.Attempt, resumed.Run.Node));
        Assert.Empty(await Store.RunsToWakeAsync(Time.GetUtcNow(), 10, default));
    }

    [Fact]
    public async Task An_answer_that_comes_before_the_run_rests_wakes_it_at_once()
    {
        var (run, _) = await RestingAtApprovalAsync();
        await Store.AnswerHumanStepAsync(run.Id, 1, new HumanResponse(true, "bob"), null, default);

        var wakeAt = await Store.RestForHumanAsync(run.Id, Time.GetUtcNow().AddMinutes(30), default);

        Assert.Equal(Time.GetUtcNow(), wakeAt);
    }

    [Fact]
    public async Task A_wait_with_a_deadline_is_due_at_the_deadline()
    {
        var dueAt = Time.GetUtcNow().AddMinutes(30);
        var (run, _) = await RestingAtApprovalAsync(dueAt);

        var wakeAt = await Store.RestForHumanAsync(run.Id, dueAt, default);
        var early = await Store.RunsToWakeAsync(Time.GetUtcNow(), 10, default);
        Time.Advance(TimeSpan.FromMinutes(30));
        var late = await Store.RunsToWakeAsync(Time.GetUtcNow(), 10, default);

        Assert.Equal((dueAt, 0, 1), (wakeAt, early.Count, late.Count));
        Assert.Equal(dueAt, (await Store.FindStepAsync(run.Id, 1, default))!.DueAt);
    }

    [Fact]
    public async Task Ending_a_waiting_run_closes_its_open_question()
    {
        var (run, _) = await RestingAtApprovalAsync();
        await Store.RestForHumanAsync(run.Id, null, default);

        await Store.FinishRunAsync(run.Id, RunStatus.Cancelled, "cancelled", default);
        var step = await Store.FindStepAsync(run.Id, 1, default);

        Assert.Equal(StepStatus.Cancelled, step!.Status);
        Assert.False((await Store.AnswerHumanStepAsync(run.Id, 1, new HumanResponse(true, "bob"), null, default)).Answered);
    }

    [Fact]
    public async Task A_pickup_is_recorded_once_with_who_took_it()
    {
        var (run, _) = await RestingAtApprovalAsync();
        Time.Advance(TimeSpan.FromMinutes(2));
        var first = await Store.PickUpHumanStepAsync(run.Id, 1, "bob", default);
        Time.Advance(TimeSpan.FromMinutes(2));
        var second = await Store.PickUpHumanStepAsync(run.Id, 1, "carol", default);

        Assert.Equal((Time.GetUtcNow().AddMinutes(-2), "bob"), (first!.PickedUpAt, first.Actor));
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Toil_runs_carry_their_baseline_their_alert_and_only_the_steps_that_count()
    {
        var stored = await Store.IngestAsync(new WebhookDelivery("alertmanager", null, "{}",
            [new ParsedAlert(new RunbookAlert("alertmanager", "SnapshotVolumeFilling", AlertStatus.Firing, "warning",
                new Dictionary<string, string> { ["service"] = "postgres" }, new Dictionary<string, string>(), Time.GetUtcNow().AddMinutes(-5), null, "fp-1"), "k1")]), default);
        var run = await Store.CreateRunAsync(new NewRun("prune", null, "h1", RunTrigger.Alert, stored[0].Id, AlertId: stored[0].Id, ManualMinutes: 20), default);
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        var at = Time.GetUtcNow();
        await Store.SaveStepAsync(run.Id, new StepOutcome(1, "list", StepKind.Automated, StepStatus.Succeeded, at, at.AddSeconds(1), 1, "big output", null, "runbook"), default);
        await Store.SaveStepAsync(run.Id, new StepOutcome(2, "copy", StepKind.Automated, StepStatus.Succeeded, at, at.AddSeconds(2), 1, "", null, "runbook", ManualMinutes: 4), default);
        await Store.SaveStepAsync(run.Id, new StepOutcome(3, "Approve: go?", StepKind.Approval, StepStatus.Succeeded, at, at.AddMinutes(3), 1, "", null, "bob", PickedUpAt: at.AddMinutes(1)), default);
        Time.Advance(TimeSpan.FromMinutes(4));
        await Store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, default);
        await Store.CreateRunAsync(new NewRun("other", null, "h2", RunTrigger.Schedule, "cron"), default);

        var runs = await Store.ToilRunsAsync(at.AddHours(-1), at.AddHours(1), default);
        var outside = await Store.ToilRunsAsync(at.AddHours(1), at.AddHours(2), default);

        var toil = Assert.Single(runs, r => r.Id == run.Id);
        Assert.Equal(2, runs.Count);
        Assert.Empty(outside);
        Assert.Equal((RunStatus.Succeeded, 20.0, "SnapshotVolumeFilling", "alertmanager"), (toil.Status, toil.ManualMinutes, toil.Alert!.Name, toil.Alert.Source));
        Assert.Equal([2, 3], toil.Steps.Select(s => s.Sequence));
        Assert.Equal(at.AddMinutes(1), toil.Steps[1].PickedUpAt);
        Assert.Contains("postgres", toil.Alert.LabelsJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_group_and_rank_over_a_seeded_store()
    {
        var reports = new ToilReports(Store, Microsoft.Extensions.Options.Options.Create(new RunbookEngineOptions
        {
            Toil = { UnautomatedAlertMinutes = 10, AlertMinutes = { ["CertExpiring"] = 30 } },
        }));
        var since = Time.GetUtcNow();

        // Two runs of prune (baseline 20): one succeeds with 2 human minutes, one fails. One run of restart (baseline 5) succeeds.
        await SeedRunAsync("prune", RunStatus.Succeeded, 20, humanMinutes: 2);
        await SeedRunAsync("prune", RunStatus.Failed, 20, humanMinutes: 1);
        await SeedRunAsync("restart", RunStatus.Succeeded, 5, humanMinutes: 0);
        foreach (var (name, fingerprint) in new[] { ("DiskFull", "a"), ("DiskFull", "b"), ("DiskFull", "c"), ("CertExpiring", "d"), ("CertExpiring", "e") })
        {
            var stored = await Store.IngestAsync(new WebhookDelivery("generic", null, "{}",
                [new ParsedAlert(new RunbookAlert("generic", name, AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), since, null, fingerprint), fingerprint)]), default);
            await Store.SetOutcomeAsync(stored[0].Id, AlertOutcome.Unautomated, "no runbook", default);
        }

        var report = await reports.ReportAsync(since, since.AddHours(1), ToilGrouping.Runbook, default);
        var ranking = await reports.UnautomatedAsync(since, since.AddHours(1), default);

        var prune = Assert.Single(report.Groups, g => g.Key == "prune");
        Assert.Equal((2, 1, 1, 0.5, 18.0, 3.0), (prune.Runs, prune.Succeeded, prune.Failed, prune.SuccessRate, prune.MinutesSaved, prune.HumanMinutes));
        Assert.Equal((3, 23.0, 3.0), (report.Total.Runs, report.Total.MinutesSaved, report.Total.HumanMinutes));
        Assert.Equal([("CertExpiring", 2L, 60.0, 1), ("DiskFull", 3L, 30.0, 2)], ranking.Select(a => (a.Alert, a.Count, a.EstimatedMinutes, a.Rank)));
    }

    private async Task SeedRunAsync(string runbook, RunStatus status, double baseline, double humanMinutes)
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h", RunTrigger.Manual, "alice", ManualMinutes: baseline), default);
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        var at = Time.GetUtcNow();
        await Store.SaveStepAsync(run.Id, new StepOutcome(1, "do it", StepKind.Manual, StepStatus.Succeeded, at, at.AddMinutes(humanMinutes), 1, "", null, "bob", PickedUpAt: at), default);
        Time.Advance(TimeSpan.FromMinutes(humanMinutes + 1));
        await Store.FinishRunAsync(run.Id, status, status == RunStatus.Succeeded ? null : "failed", default);
    }
}

public sealed class HumanAndToilStoreOnSqlite : HumanAndToilStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));
}

public sealed class HumanAndToilStoreOnPostgres : HumanAndToilStoreContract
{
    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        return SqlRunStore.Postgres(await server.CreateDatabaseAsync(nameof(HumanAndToilStoreOnPostgres)), Time);
    }
}
