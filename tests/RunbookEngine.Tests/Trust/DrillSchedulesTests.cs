using Hangfire;
using Hangfire.InMemory;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Catalog;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Storage;
using RunbookEngine.Tests.Runs;
using RunbookEngine.Trust.Drills;

namespace RunbookEngine.Tests.Trust;

/// <summary>Drill recurring jobs follow the catalog through the schedule sync, on Hangfire's in-memory storage.</summary>
public sealed class DrillSchedulesTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-drill-jobs-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-05T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly InMemoryStorage _hangfire = new();
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;
    private RunbookCatalog _catalog = null!;
    private ScheduleSync _sync = null!;

    private string Runbooks => Path.Combine(_folder, "runbooks");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Runbooks);
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), _time);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(_folder, "data", "compiled"));
        _catalog = new RunbookCatalog(new OneFolder(Runbooks), _compiler, _store, Path.Combine(_folder, "data"), _time, NullLogger<RunbookCatalog>.Instance);
        var manager = new RecurringJobManager(_hangfire);
        _sync = new ScheduleSync(() => _hangfire, () => manager, _catalog, new DrillSchedules(_catalog, NullLogger<DrillSchedules>.Instance), NullLogger<ScheduleSync>.Instance);
    }

    public async Task DisposeAsync()
    {
        _catalog.Dispose();
        _compiler.Dispose();
        _hangfire.Dispose();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task A_drill_block_gets_its_own_recurring_job_beside_the_schedule_which_follows_its_changes_and_goes_with_it()
    {
        await WriteAsync("schedule: \"0 * * * *\"\n// drill: { schedule: \"0 6 * * 1\", case: c }");
        Assert.Equal([("drill:disk", "0 6 * * 1", typeof(DrillJob)), ("disk", "0 * * * *", typeof(ScheduledRunJob))], Jobs());

        await WriteAsync("schedule: \"0 * * * *\"\n// drill: { schedule: \"@daily\", case: c }");
        Assert.Equal([("drill:disk", "0 0 * * *", typeof(DrillJob)), ("disk", "0 * * * *", typeof(ScheduledRunJob))], Jobs());

        await WriteAsync("schedule: \"0 * * * *\"");
        Assert.Equal([("disk", "0 * * * *", typeof(ScheduledRunJob))], Jobs());
    }

    [Fact]
    public async Task A_runbook_removed_takes_its_drill_with_it()
    {
        await WriteAsync("drill: { schedule: \"0 6 * * 1\", case: c }");
        Assert.Equal([("drill:disk", "0 6 * * 1", typeof(DrillJob))], Jobs());

        File.Delete(Path.Combine(Runbooks, "disk.csx"));
        await _catalog.SyncAsync(default);
        await _sync.SyncAsync(default);

        Assert.Empty(Jobs());
    }

    [Fact]
    public async Task A_drill_job_stays_while_the_runbook_stops_compiling_so_the_drill_can_say_so()
    {
        await WriteAsync("drill: { schedule: \"0 6 * * 1\", case: c }", code: "undefinedThing();");

        Assert.False(_catalog.Find("disk")!.IsValid);
        Assert.Equal([("drill:disk", "0 6 * * 1", typeof(DrillJob))], Jobs());
    }

    private async Task WriteAsync(string frontMatter, string code = "await Step(\"x\", ct => Task.CompletedTask);")
    {
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "disk.csx"), $"// ---\n// description: d\n// {frontMatter}\n// ---\n{code}\n");
        await _catalog.SyncAsync(default);
        await _sync.SyncAsync(default);
    }

    private List<(string Id, string Cron, Type? Type)> Jobs()
    {
        using var connection = _hangfire.GetConnection();
        return [.. Hangfire.Storage.StorageConnectionExtensions.GetRecurringJobs(connection).Select(j => (j.Id, j.Cron, j.Job?.Type)).OrderByDescending(j => j.Id, StringComparer.Ordinal)];
    }
}
