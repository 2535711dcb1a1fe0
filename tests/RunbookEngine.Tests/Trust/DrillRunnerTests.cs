using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Catalog;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.Tests.Runs;
using RunbookEngine.Toil;
using RunbookEngine.Trust.Drills;

namespace RunbookEngine.Tests.Trust;

/// <summary>Starting a drill on a real SQLite store and catalog, with no scheduler: what it records and dispatches.</summary>
public sealed class DrillRunnerTests : IAsyncLifetime
{
    private const string DiskFull = """
        // ---
        // description: Frees disk space
        // owner: sre
        // manual_minutes: 20
        // alerts:
        //   - name: DiskFull
        //     labels: { severity: "critical" }
        // parameters:
        //   instance: { type: string, required: true, from: "labels.instance" }
        //   path: { type: string, default: "/var/log" }
        // drill: { schedule: "0 6 * * 1", case: disk-full }
        // ---
        await Step("measure", ct => Task.CompletedTask);
        """;

    private const string Case = """
        alert:
          name: DiskFull
          source: alertmanager
          labels: { severity: critical, instance: web-1 }
        parameters:
          path: /srv
        """;

    private readonly string _folder = Directory.CreateTempSubdirectory("runbook-drills-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-12-05T06:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly RecordingDispatcher _dispatcher = new();
    private SqlRunStore _store = null!;
    private RunbookCompiler _compiler = null!;
    private RunbookCatalog _catalog = null!;
    private DrillRunner _drills = null!;
    private RunService _runs = null!;

    private string Runbooks => Path.Combine(_folder, "runbooks");

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Runbooks);
        _store = SqlRunStore.Sqlite(Path.Combine(_folder, "data", "runs.db"), _time);
        await _store.MigrateAsync(CancellationToken.None);
        _compiler = new RunbookCompiler(Path.Combine(_folder, "data", "compiled"));
        _catalog = new RunbookCatalog(new OneFolder(Runbooks), _compiler, _store, Path.Combine(_folder, "data"), _time, NullLogger<RunbookCatalog>.Instance);
        var metrics = new EngineMetrics();
        _runs = new RunService(_store, _store, _catalog, _dispatcher, metrics, _time, NullLogger<RunService>.Instance, new SecretParameters(new EphemeralDataProtectionProvider()));
        _drills = new DrillRunner(_runs, _store, _store, _catalog, metrics, _time, NullLogger<DrillRunner>.Instance);
    }

    public async Task DisposeAsync()
    {
        _catalog.Dispose();
        _compiler.Dispose();
        await _store.DisposeAsync();
    }

    [Fact]
    public async Task StartAsync_AgainstATestCase_DispatchesADrillRun_BoundFromItsAlert_WithNoToilBaseline()
    {
        await LoadAsync(DiskFull, Case);

        var result = await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default);

        var run = Assert.IsType<RunRecord>(result.Run);
        Assert.Equal((RunTrigger.Drill, "drill", RunStatus.Queued, (double?)null), (run.Trigger, run.TriggeredBy, run.Status, run.ManualMinutes));
        Assert.Null(run.AlertId);
        Assert.Contains("\"instance\":\"web-1\"", run.ParametersJson, StringComparison.Ordinal);
        Assert.Contains("\"path\":\"/srv\"", run.ParametersJson, StringComparison.Ordinal);
        Assert.Equal([$"Dispatch {run.Id}"], _dispatcher.Calls);
    }

    [Fact]
    public async Task StartAsync_OfARunbookWithAConcurrencyKey_TakesNoKey_SoItNeitherWaitsForNorHoldsBackARealRun()
    {
        await LoadAsync(DiskFull.Replace("// manual_minutes: 20", "// manual_minutes: 20\n// concurrency: \"disk:{{ params.instance }}\"\n// on_conflict: refuse\n// cooldown: 1h", StringComparison.Ordinal), Case);
        var real = await _runs.TriggerAsync("disk-full", new Dictionary<string, string> { ["instance"] = "web-1" }, RunTrigger.Manual, "alice", null, default);

        var drill = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal("disk-full:disk:web-1", real.Run!.ConcurrencyKey);
        Assert.Equal((RunStatus.Queued, (string?)null, (string?)null), (drill.Status, drill.ConcurrencyKey, drill.Target));
    }

    [Fact]
    public async Task RetryAsync_OfADrill_IsADrillAgain_NeverARunThatActs()
    {
        await LoadAsync(DiskFull, Case);
        var drill = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;
        await _store.FinishRunAsync(drill.Id, RunStatus.Failed, "the probe failed", default);

        var retry = (await _runs.RetryAsync(drill.Id, "alice", default)).Run!;

        Assert.Equal((RunTrigger.Drill, drill.Id, (double?)null), (retry.Trigger, retry.RetryOf, retry.ManualMinutes));
    }

    [Fact]
    public async Task StartAsync_WhenTheAlertNoLongerMatches_RecordsAFailedDrillRun_AndDispatchesNothing()
    {
        await LoadAsync(DiskFull.Replace("name: DiskFull", "name: FilesystemFull", StringComparison.Ordinal), Case);

        var run = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal((RunTrigger.Drill, RunStatus.Failed, RunMode.Shadow), (run.Trigger, run.Status, run.Mode));
        Assert.StartsWith("the drill's alert no longer matches the runbook's alerts: rules: alert DiskFull from alertmanager with labels { instance: web-1, severity: critical }; rules: name FilesystemFull, severity =~ critical", run.Error, StringComparison.Ordinal);
        Assert.Empty(_dispatcher.Calls);
    }

    [Fact]
    public async Task StartAsync_WhenAParameterNoLongerBinds_RecordsAFailedDrillRun_WithTheBindersError()
    {
        await LoadAsync(DiskFull.Replace("from: \"labels.instance\"", "from: \"labels.host\"", StringComparison.Ordinal), Case);

        var run = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.StartsWith("a parameter no longer binds: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("instance", run.Error, StringComparison.Ordinal);
        Assert.Empty(_dispatcher.Calls);
    }

    [Fact]
    public async Task StartAsync_WhenTheNewestVersionDoesNotCompile_RecordsAFailedDrillRunOfThatVersion()
    {
        await LoadAsync(DiskFull, Case);
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "disk-full.csx"), DiskFull + "\nundefinedThing();\n");
        await _catalog.SyncAsync(default);

        var run = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.StartsWith("the runbook no longer compiles: version ", run.Error, StringComparison.Ordinal);
        Assert.Contains("undefinedThing", run.Error, StringComparison.Ordinal);
        Assert.Equal(_catalog.Find("disk-full")!.Problem!.ContentHash, run.ContentHash);
    }

    [Fact]
    public async Task StartAsync_WhenTheCaseIsMissing_RecordsAFailedDrillRunNamingTheFile()
    {
        await LoadAsync(DiskFull, testCase: null);

        var run = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal((RunStatus.Failed, "the drill's test case tests/disk-full/disk-full.yaml does not exist in the runbook folder"), (run.Status, run.Error));
    }

    [Theory]
    [InlineData("alert: [DiskFull", "tests/disk-full/disk-full.yaml:2: not valid YAML")]
    [InlineData("payload: { source: alertmanager, file: fire.json }", "tests/disk-full/disk-full.yaml:1: drills read an inline `alert:` only")]
    [InlineData("alert: { labels: { instance: web-1 } }", "tests/disk-full/disk-full.yaml:1: `alert:` needs a `name:`")]
    [InlineData("parameters: [a, b]", "tests/disk-full/disk-full.yaml:1: `parameters:` must be a mapping of name: value")]
    public async Task StartAsync_WithABadCase_RecordsAFailedDrillRunSayingWhatIsWrong(string testCase, string expected)
    {
        await LoadAsync(DiskFull, testCase);

        var run = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal(RunStatus.Failed, run.Status);
        Assert.StartsWith(expected, run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_AgainstARecordedAlert_BindsFromIt_AndFailsOnceTheAlertIsGone()
    {
        var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, "critical",
            new Dictionary<string, string> { ["severity"] = "critical", ["instance"] = "db-2" }, new Dictionary<string, string>(), _time.GetUtcNow(), null, "fp-1");
        var stored = await _store.IngestAsync(new WebhookDelivery("alertmanager", null, "{}", [new ParsedAlert(alert, "k-1")]), default);
        await LoadAsync(DiskFull.Replace("case: disk-full", $"alert: {stored[0].Id}", StringComparison.Ordinal), testCase: null);

        var bound = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;
        await LoadAsync(DiskFull.Replace("case: disk-full", "alert: no-such-alert", StringComparison.Ordinal), testCase: null);
        var gone = (await _drills.StartAsync("disk-full", DrillRunner.TriggeredBy, default)).Run!;

        Assert.Equal(RunStatus.Queued, bound.Status);
        Assert.Contains("\"instance\":\"db-2\"", bound.ParametersJson, StringComparison.Ordinal);
        Assert.Null(bound.AlertId);
        Assert.Equal(RunStatus.Failed, gone.Status);
        Assert.StartsWith("the drill's recorded alert no-such-alert is not in the store", gone.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StartAsync_OfARunbookWithoutADrill_OrOfNoRunbook_RecordsNothing()
    {
        await LoadAsync(DiskFull.Replace("// drill: { schedule: \"0 6 * * 1\", case: disk-full }\n", "", StringComparison.Ordinal), Case);

        var none = await _drills.StartAsync("disk-full", "alice", default);
        var missing = await _drills.StartAsync("no-such-runbook", "alice", default);

        Assert.Equal((DrillProblem.NoDrill, (RunRecord?)null), (none.Problem, none.Run));
        Assert.StartsWith("runbook 'disk-full' has no drill: add a `drill:", none.Error, StringComparison.Ordinal);
        Assert.Equal(DrillProblem.NotFound, missing.Problem);
        Assert.Empty(await _store.ListRunsAsync(new RunQuery(), default));
    }

    [Fact]
    public async Task FireAsync_OfTheRecurringJob_RecordsAndDispatchesTheDrillRun_AndOfARunbookGoneRecordsNothing()
    {
        await LoadAsync(DiskFull, Case);
        var job = new DrillJob(_drills, NullLogger<DrillJob>.Instance);

        await job.FireAsync("disk-full", null);
        await job.FireAsync("no-such-runbook", null);

        var run = Assert.Single(await _store.ListRunsAsync(new RunQuery(), default));
        Assert.Equal((RunTrigger.Drill, "drill"), (run.Trigger, run.TriggeredBy));
        Assert.Equal([$"Dispatch {run.Id}"], _dispatcher.Calls);
    }

    private async Task LoadAsync(string runbook, string? testCase)
    {
        await File.WriteAllTextAsync(Path.Combine(Runbooks, "disk-full.csx"), runbook.ReplaceLineEndings("\n"));
        var cases = Path.Combine(Runbooks, "tests", "disk-full");
        if (testCase is not null)
        {
            Directory.CreateDirectory(cases);
            await File.WriteAllTextAsync(Path.Combine(cases, "disk-full.yaml"), testCase);
        }

        await _catalog.SyncAsync(default);
        var entry = _catalog.Find("disk-full");
        Assert.True(entry?.Definition is not null, string.Join("; ", entry?.Diagnostics ?? []));
    }
}
