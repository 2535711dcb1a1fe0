using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using RunbookEngine;
using RunbookEngine.Benchmarks.Dashboard;
using RunbookEngine.Retention;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

// Retention on PostgreSQL: the dashboard benchmark's 100,000 runs, 1,000,000 steps and their alerts and deliveries,
// seeded by COPY so that every one of them is 91 to 181 days old, then one retention pass (RunHistoryRetention.PassAsync,
// as the host runs it, MaxAge 90 days) that deletes them all, keeping each run's toil summary. Meanwhile a writer writes
// runs as the engine does, through SqlRunStore, one call per transaction (create, start, two steps, finish), and the
// time of each call is compared with the same writer's calls before the pass, with nothing else running.
// `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Retention [-- --batch 1000] [--pause-ms 100] [--quiet-runs 400]`.
// Measured 2026-11-24 07:35-07:48 UTC on the 2 vCPU VM, shared with other builds (load average 10-18): the pass took 52.5 s
// and 74.7 s with the default 100 ms pause (16.8 s of it pauses, 171 batches), 73.2 s with none; the writer's calls
// p50 3.6-4.2 ms quiet and 3.7-4.9 ms during the pass, p99 19-31 ms and 24-30 ms, the slowest 158-168 ms and 295-316 ms.
var batch = int.Parse(Arg("--batch") ?? "1000", CultureInfo.InvariantCulture);
var pause = TimeSpan.FromMilliseconds(int.Parse(Arg("--pause-ms") ?? "100", CultureInfo.InvariantCulture));
var quietRuns = int.Parse(Arg("--quiet-runs") ?? "400", CultureInfo.InvariantCulture);

var server = await PostgresServer.StartDurableAsync();
var database = await server.CreateDatabaseAsync("bench_retention");
await using (var migrating = SqlRunStore.Postgres(database, TimeProvider.System))
{
    await migrating.MigrateAsync(CancellationToken.None);
}

var seedClock = Stopwatch.StartNew();
var data = await Seeder.SeedAsync(database, TimeProvider.System.GetUtcNow().AddDays(-91), []);
Console.WriteLine($"seeded in {seedClock.Elapsed.TotalSeconds:0.0} s: {data.Counts}");
await using var connection = new NpgsqlConnection(database);
await connection.OpenAsync();
await ExecAsync(connection, "VACUUM (ANALYZE)");
await ExecAsync(connection, "CHECKPOINT");
Console.WriteLine($"before: {await CountsAsync(connection)}; load average {LoadAverage()}");

await using var store = SqlRunStore.Postgres(database, TimeProvider.System);
var quiet = new Calls();
for (var i = 0; i < quietRuns; i++)
{
    await WriteRunAsync(store, quiet);
}

var during = new Calls();
using var stop = new CancellationTokenSource();
var writer = Task.Run(async () =>
{
    while (!stop.IsCancellationRequested)
    {
        await WriteRunAsync(store, during);
    }
});
var retention = new RunHistoryRetention(store,
    Options.Create(new RunbookEngineOptions { Retention = { BatchSize = batch, Pause = pause } }),
    TimeProvider.System,
    NullLogger<RunHistoryRetention>.Instance);
var clock = Stopwatch.StartNew();
var pass = await retention.PassAsync(CancellationToken.None);
clock.Stop();
await stop.CancelAsync();
await writer;

var seconds = clock.Elapsed.TotalSeconds;
var batches = pass.RunBatches + pass.AlertBatches + pass.DeliveryBatches;
var paused = pause.TotalSeconds * (Math.Max(0, pass.RunBatches - 1) + Math.Max(0, pass.AlertBatches - 1) + Math.Max(0, pass.DeliveryBatches - 1));
Console.WriteLine($"retention (batch {batch}, pause {pause.TotalMilliseconds:0} ms): {pass.Runs:N0} runs, {pass.Steps:N0} steps, {pass.Alerts:N0} alerts, {pass.Deliveries:N0} deliveries " +
    $"in {seconds:0.0} s ({batches} batches, {paused:0.0} s of it pauses; {(seconds - paused) / batches * 1000:0} ms per batch of work on average; " +
    $"{pass.Runs / (seconds - paused):N0} runs/s while working)");
Console.WriteLine($"after: {await CountsAsync(connection)}; load average {LoadAverage()}");
Console.WriteLine($"writer, quiet:            {quiet.Summary()}");
Console.WriteLine($"writer, during retention: {during.Summary()}");
await server.StopAsync();
return 0;

static async Task WriteRunAsync(SqlRunStore store, Calls calls)
{
    var run = await calls.TimeAsync("create", () => store.CreateRunAsync(new NewRun("disk-cleanup", null, "h", RunTrigger.Manual, "bench", ManualMinutes: 10), CancellationToken.None));
    await calls.TimeAsync("start", () => store.StartRunAsync(run.Id, "bench", false, CancellationToken.None));
    for (var step = 1; step <= 2; step++)
    {
        var at = TimeProvider.System.GetUtcNow();
        await calls.TimeAsync("step", async () =>
        {
            await store.SaveStepAsync(run.Id, new StepOutcome(step, "apply fix", StepKind.Automated, StepStatus.Succeeded, at, at, 1, "removed 12 files", null, "runbook"), CancellationToken.None);
            return true;
        });
    }

    await calls.TimeAsync("finish", () => store.FinishRunAsync(run.Id, RunStatus.Succeeded, null, CancellationToken.None));
}

static async Task<string> CountsAsync(NpgsqlConnection connection)
{
    var parts = new List<string>();
    foreach (var table in new[] { "runbook_runs", "runbook_steps", "runbook_alerts", "runbook_deliveries", "runbook_toil_runs", "runbook_toil_unautomated" })
    {
        await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM {table}", connection);
        parts.Add($"{table} {(long)(await command.ExecuteScalarAsync())!:N0}");
    }

    return string.Join(", ", parts);
}

static async Task ExecAsync(NpgsqlConnection connection, string sql)
{
    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 600 };
    await command.ExecuteNonQueryAsync();
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

string? Arg(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();

/// <summary>Each call's time in ms, by operation.</summary>
internal sealed class Calls
{
    private readonly Dictionary<string, List<double>> _times = [];

    public async Task<T> TimeAsync<T>(string operation, Func<Task<T>> call)
    {
        var clock = Stopwatch.StartNew();
        var result = await call();
        if (!_times.TryGetValue(operation, out var list))
        {
            _times[operation] = list = [];
        }

        list.Add(clock.Elapsed.TotalMilliseconds);
        return result;
    }

    public string Summary()
    {
        var all = _times.Values.SelectMany(t => t).Order().ToList();
        return $"{all.Count:N0} calls, p50 {P(all, 0.5):0.0} ms, p99 {P(all, 0.99):0.0} ms, max {all[^1]:0.0} ms | " +
            string.Join("; ", _times.Select(t => $"{t.Key} p50 {P([.. t.Value.Order()], 0.5):0.0} p99 {P([.. t.Value.Order()], 0.99):0.0} max {t.Value.Max():0.0}"));
    }

    private static double P(List<double> sorted, double p) => sorted[Math.Max(0, (int)Math.Ceiling(p * sorted.Count) - 1)];
}
