using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Storage;

/// <summary>The facts freshness is judged from, read in grouped queries, on each database.</summary>
public abstract class FreshnessStoreContract : StoreContract
{
    private async Task<RunRecord> EndedAsync(string runbook, RunTrigger trigger, RunStatus status, string? error = null)
    {
        var run = await Store.CreateRunAsync(new NewRun(runbook, null, "h1", trigger, trigger == RunTrigger.Drill ? "drill" : "alice"), default);
        Assert.True(await Store.FinishRunAsync(run.Id, status, error, default));
        Time.Advance(TimeSpan.FromHours(1));
        return run;
    }

    [Fact]
    public async Task Facts_tell_successes_from_drills_and_quote_the_latest_failing_drill()
    {
        var start = Time.GetUtcNow();
        await EndedAsync("disk", RunTrigger.Alert, RunStatus.Succeeded);                 // +0h
        await EndedAsync("disk", RunTrigger.Manual, RunStatus.Failed, "boom");           // +1h: not a success
        await EndedAsync("disk", RunTrigger.Drill, RunStatus.Proposed);                  // +2h: passing drill
        await EndedAsync("disk", RunTrigger.Drill, RunStatus.Failed, "old failure");     // +3h
        var latest = await EndedAsync("disk", RunTrigger.Drill, RunStatus.Failed, "`probe` not found"); // +4h
        await EndedAsync("disk", RunTrigger.Drill, RunStatus.Cancelled, "busy");         // +5h: neither
        await EndedAsync("other", RunTrigger.Schedule, RunStatus.Proposed);              // +6h: a shadow run proves it

        var facts = (await Store.FreshnessFactsAsync(null, default)).ToDictionary(f => f.Runbook);

        var disk = facts["disk"];
        Assert.Equal(start, disk.LastSuccessAt);
        Assert.Equal(start.AddHours(2), disk.LastPassingDrillAt);
        Assert.Equal(start.AddHours(4), disk.LastFailingDrillAt);
        Assert.Equal((latest.Id, "`probe` not found"), (disk.LastFailingDrillRunId, disk.LastFailingDrillError));
        Assert.True(disk.LatestDrillFailed);
        Assert.Equal(start.AddHours(6), facts["other"].LastSuccessAt);
        Assert.Null(facts["other"].LastPassingDrillAt);
        Assert.False(facts["other"].LatestDrillFailed);
    }

    [Fact]
    public async Task Facts_of_one_runbook_leave_the_others_out()
    {
        await EndedAsync("disk", RunTrigger.Drill, RunStatus.Succeeded);
        await EndedAsync("other", RunTrigger.Drill, RunStatus.Failed, "no");

        var facts = await Store.FreshnessFactsAsync("disk", default);

        var disk = Assert.Single(facts);
        Assert.Equal("disk", disk.Runbook);
        Assert.Null(disk.LastFailingDrillAt);
        Assert.False(disk.LatestDrillFailed);
    }

    [Fact]
    public async Task Facts_hold_when_its_alerts_last_fired_and_when_it_first_appeared()
    {
        var appeared = Time.GetUtcNow();
        await Store.RecordVersionAsync(new RunbookVersion("disk", "h1", null, null, null, null, true, [], [new VersionFile("disk.csx", "x")], appeared), default);
        Time.Advance(TimeSpan.FromDays(3));
        await Store.RecordVersionAsync(new RunbookVersion("disk", "h2", null, null, null, null, true, [], [new VersionFile("disk.csx", "y")], Time.GetUtcNow()), default);
        var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), appeared, null, "fp-1");
        Time.Advance(TimeSpan.FromHours(2));
        var firedAt = Time.GetUtcNow();
        var stored = await Store.IngestAsync(new WebhookDelivery("alertmanager", null, "{}", [new ParsedAlert(alert, "k-1")]), default);
        await Store.AddDecisionAsync(stored[0].Id, new AlertDecision("disk", AlertDecisionKind.Cooldown, null, "cooling down", firedAt), default);

        var disk = Assert.Single(await Store.FreshnessFactsAsync(null, default));

        Assert.Equal(appeared, disk.FirstSeenAt);
        Assert.Equal(firedAt, disk.LastAlertAt);
        Assert.Null(disk.LastSuccessAt);
        Assert.Null(disk.LastProvenAt);
    }

    [Fact]
    public async Task Facts_of_an_empty_store_are_none()
    {
        Assert.Empty(await Store.FreshnessFactsAsync(null, default));
        Assert.Empty(await Store.FreshnessFactsAsync("disk", default));
    }
}
