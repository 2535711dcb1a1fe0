using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;
using RunbookEngine.Toil;
using RunbookEngine.Trust.Modes;

namespace RunbookEngine.Tests.Storage;

/// <summary>Shadow proposals, verdicts on them and a runbook's record in shadow and confirm mode, on each database.</summary>
public abstract class TrustStoreContract : StoreContract
{
    private static readonly RunProposal Delete = new("delete old snapshots", "keeps the newest three", "step", null, new Dictionary<string, string> { ["dir"] = "/srv/snapshots", ["token"] = "***" });

    [Fact]
    public async Task A_proposal_is_kept_with_the_run_and_a_verdict_on_it_replaces_an_earlier_one()
    {
        var run = await ProposedAsync("prune");

        var first = await Store.RecordVerdictAsync(run.Id, new RunVerdict(true, "bob", null, Time.GetUtcNow()), default);
        Time.Advance(TimeSpan.FromMinutes(5));
        var second = await Store.RecordVerdictAsync(run.Id, new RunVerdict(false, "carol", "the newest snapshot is corrupt", Time.GetUtcNow()), default);
        var stored = await Store.GetRunAsync(run.Id, default);

        Assert.True(first);
        Assert.True(second);
        Assert.Equal((RunStatus.Proposed, RunMode.Shadow), (stored!.Status, stored.Mode));
        Assert.Equal(("delete old snapshots", "keeps the newest three", "step", (string?)null), (stored.Proposal!.Step, stored.Proposal.Description, stored.Proposal.Action, stored.Proposal.Detail));
        Assert.Equal(Delete.Parameters, stored.Proposal.Parameters);
        Assert.Equal(new RunVerdict(false, "carol", "the newest snapshot is corrupt", Time.GetUtcNow()), stored.Verdict);
    }

    [Fact]
    public async Task Only_a_proposed_run_takes_a_verdict()
    {
        var succeeded = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Manual, "alice"), default);
        await Store.StartRunAsync(succeeded.Id, "node-a", false, default);
        await Store.FinishRunAsync(succeeded.Id, RunStatus.Succeeded, null, default);
        var running = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Manual, "alice"), default);
        await Store.StartRunAsync(running.Id, "node-a", false, default);
        var verdict = new RunVerdict(true, "bob", null, Time.GetUtcNow());

        Assert.False(await Store.RecordVerdictAsync(succeeded.Id, verdict, default));
        Assert.False(await Store.RecordVerdictAsync(running.Id, verdict, default));
        Assert.False(await Store.RecordVerdictAsync("no-such-run", verdict, default));
        Assert.Null((await Store.GetRunAsync(succeeded.Id, default))!.Verdict);
    }

    [Fact]
    public async Task A_runbooks_record_counts_proposals_verdicts_and_confirm_approvals_and_leaves_drills_out()
    {
        // prune, in run order: right, wrong, right, right, unjudged; and a drill judged wrong, which does not count.
        foreach (var verdict in new bool?[] { true, false, true, true, null })
        {
            var run = await ProposedAsync("prune");
            if (verdict is { } right)
            {
                await Store.RecordVerdictAsync(run.Id, new RunVerdict(right, "bob", null, Time.GetUtcNow()), default);
            }
        }

        var drill = await ProposedAsync("prune", RunTrigger.Drill);
        await Store.RecordVerdictAsync(drill.Id, new RunVerdict(false, "bob", null, Time.GetUtcNow()), default);

        // restart in confirm mode, in run order: approved, rejected, approved, waiting; plus an approval of its own, and a timed-out one.
        await ConfirmRunAsync("restart", StepStatus.Succeeded, "bob");
        await ConfirmRunAsync("restart", StepStatus.Failed, "carol");
        await ConfirmRunAsync("restart", StepStatus.Succeeded, "bob");
        await ConfirmRunAsync("restart", StepStatus.WaitingForHuman, "");
        await ConfirmRunAsync("restart", StepStatus.Succeeded, "bob", name: "Approve: restart the primary?");
        await ConfirmRunAsync("restart", StepStatus.TimedOut, "");

        var all = await Store.TrustCountsAsync(null, default);
        var prune = await Store.TrustCountsAsync("prune", default);
        var latest = await Store.LatestProposalsAsync("prune", 2, default);

        Assert.Equal(["prune", "restart"], all.Select(c => c.Runbook));
        Assert.Equal(new TrustCounts("prune", 5, 3, 1, 1, 2, 0, 0, 0, 0), Assert.Single(prune));
        Assert.Equal(new TrustCounts("restart", 0, 0, 0, 0, 0, 2, 1, 1, 1), all[1]);
        Assert.Equal(2, latest.Count);
        Assert.Null(latest[0].Verdict);
        Assert.Equal((true, RunTrigger.Manual), (latest[1].Verdict!.Right, latest[1].Trigger));
        Assert.True(latest[0].QueuedAt > latest[1].QueuedAt);
    }

    [Fact]
    public async Task Toil_saves_nothing_for_a_proposal_and_reports_drills_apart()
    {
        var since = Time.GetUtcNow();
        var reports = new ToilReports(Store, Microsoft.Extensions.Options.Options.Create(new RunbookEngineOptions()));
        await ProposedAsync("prune", manualMinutes: 20);
        await ProposedAsync("prune", RunTrigger.Drill, manualMinutes: 20);
        var done = await Store.CreateRunAsync(new NewRun("prune", null, "h", RunTrigger.Manual, "alice", ManualMinutes: 20), default);
        await Store.StartRunAsync(done.Id, "node-a", false, default);
        Time.Advance(TimeSpan.FromMinutes(1));
        await Store.FinishRunAsync(done.Id, RunStatus.Succeeded, null, default);

        var report = await reports.ReportAsync(since, since.AddHours(1), ToilGrouping.Runbook, default);

        var prune = Assert.Single(report.Groups);
        Assert.Equal((2, 1, 0, 1, 1.0, 20.0), (prune.Runs, prune.Succeeded, prune.Failed, prune.Proposed, prune.SuccessRate, prune.MinutesSaved));
        Assert.Equal((2, 20.0), (report.Total.Runs, report.Total.MinutesSaved));
        Assert.Equal(new DrillToil(1, 1, 0, 1.0, 0), report.Drills);
    }

    /// <summary>A shadow run that ended Proposed, queued a minute after the one before.</summary>
    private async Task<RunRecord> ProposedAsync(string runbook, RunTrigger trigger = RunTrigger.Manual, double? manualMinutes = null)
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h", trigger, "alice", ManualMinutes: manualMinutes), default);
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        await Store.SetModeAsync(run.Id, RunMode.Shadow, null, default);
        Time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(await Store.ProposeAsync(run.Id, Delete, null, default));
        return run;
    }

    /// <summary>A confirm-mode run with its approval step as given, queued a minute after the one before.</summary>
    private async Task ConfirmRunAsync(string runbook, StepStatus status, string actor, string name = "Approve: confirm mode: run step 'restart': restarts the primary")
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h", RunTrigger.Alert, "alertmanager"), default);
        await Store.StartRunAsync(run.Id, "node-a", false, default);
        await Store.SetModeAsync(run.Id, RunMode.Confirm, null, default);
        var at = Time.GetUtcNow();
        await Store.SaveStepAsync(run.Id, new StepOutcome(1, name, StepKind.Approval, status, at, status == StepStatus.WaitingForHuman ? null : at, 1, "", null, actor, Idempotent: true), default);
        Time.Advance(TimeSpan.FromMinutes(1));
    }
}

public sealed class TrustStoreOnSqlite : TrustStoreContract
{
    private readonly string _path = Path.Combine(Directory.CreateTempSubdirectory("runbook-sqlite-").FullName, "data", "runs.db");

    protected override Task<SqlRunStore> CreateStoreAsync() => Task.FromResult(SqlRunStore.Sqlite(_path, Time));
}

public sealed class TrustStoreOnPostgres : TrustStoreContract
{
    protected override async Task<SqlRunStore> CreateStoreAsync()
    {
        var server = await PostgresServer.SharedAsync();
        return SqlRunStore.Postgres(await server.CreateDatabaseAsync(nameof(TrustStoreOnPostgres)), Time);
    }
}
