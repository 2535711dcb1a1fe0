using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using RunbookEngine.Benchmarks.Runs;
using RunbookEngine.TestSupport;

// Run benchmarks for docs/benchmarks.md, side by side in one process run on one PostgreSQL (started here, fsync on):
// the raw ceilings first (raw Quartz and raw Hangfire no-op jobs/s and enqueue-to-execute latency, in interleaved
// rounds), then real host processes on Hangfire: latency same node and cross node, runs/s on one and two nodes,
// recovery time after a kill -9, and how soon a cancel asked of another node lands. `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Runs [-- --ceilings-only]
// [--rounds N] [--no-long-polling]`.
const int Runs = 1000;

// The runbook every throughput and latency figure runs, on PostgreSQL and on the embedded default alike.
const string Noop3 = """
    // ---
    // description: Three journaled no-op steps
    // ---
    await Step("one", ct => Task.CompletedTask);
    await Step("two", ct => Task.CompletedTask);
    await Step("three", ct => Task.CompletedTask);
    """;
const int Senders = 16;
const int Threads = 10;
const int LatencySamples = 200;
var ceilingsOnly = args.Contains("--ceilings-only");
var longPolling = !args.Contains("--no-long-polling");
var roundsIndex = Array.IndexOf(args, "--rounds");
var ceilingRounds = roundsIndex >= 0 ? int.Parse(args[roundsIndex + 1], CultureInfo.InvariantCulture) : 3;
var rows = new List<(string Figure, string Value)>();
string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
void Report(string figure, string value)
{
    rows.Add((figure, value));
    Console.Error.WriteLine($"{figure}: {value} (load {F(Ceilings.LoadAverage())})");
}

if (args.Contains("--embedded"))
{
    return await EmbeddedAsync();
}

// Hangfire's client is synchronous, so each sender holds a pool thread while it enqueues; without enough threads up
// front the 16 senders start as a few and grow by the pool's hill climbing, on both sides alike.
ThreadPool.GetMinThreads(out var minWorkers, out var minIo);
ThreadPool.SetMinThreads(Math.Max(minWorkers, 2 * (Senders + Threads)), minIo);

var server = await PostgresServer.StartDurableAsync();

// Rounds alternate the schedulers, each on a fresh database, so drift in the machine's load falls on all of them.
var ceilings = new List<(int Round, CeilingRound Figures)>();
for (var round = 1; round <= ceilingRounds; round++)
{
    await using (var quartz = await RawQuartz.StartAsync(await server.CreateDatabaseAsync("bench_quartz"), Threads))
    {
        ceilings.Add((round, await Ceilings.MeasureAsync(quartz, Runs, Senders, LatencySamples)));
    }

    PrintCeiling(ceilings[^1]);
    foreach (var lp in longPolling ? new[] { false, true } : [false])
    {
        await using (var hangfire = RawHangfire.Start(await server.CreateDatabaseAsync("bench_hangfire"), Threads, lp))
        {
            ceilings.Add((round, await Ceilings.MeasureAsync(hangfire, Runs, Senders, LatencySamples)));
        }

        PrintCeiling(ceilings[^1]);
    }

    // Every round's database has a pool of its own here; idle, they would hold PostgreSQL's 300 connections until the
    // hosts below are refused.
    NpgsqlConnection.ClearAllPools();
}

var quartzRate = Median(ceilings.Where(c => c.Figures.Name == "raw Quartz").Select(c => c.Figures.JobsPerSecond));
var hangfireRate = Median(ceilings.Where(c => c.Figures.Name == "raw Hangfire, 200 ms polling").Select(c => c.Figures.JobsPerSecond));
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL 15 with fsync on, started by the benchmark; {Threads} threads / workers; {Runs} jobs from {Senders} senders; latency n={LatencySamples} one at a time");
Console.WriteLine("| round | ceiling | no-op jobs/s (s, executed) | load | enqueue → execute p50 / p99 / max (ms) | missed | load |");
Console.WriteLine("|---|---|---|---|---|---|---|");
foreach (var (round, c) in ceilings)
{
    Console.WriteLine($"| {round} | {c.Name} | {c.JobsPerSecond:0} ({F(c.Seconds)} s, {c.Executed}/{c.Jobs}) | {F(c.ThroughputLoad)} | {(c.Latencies.Count > 0 ? Percentiles([.. c.Latencies]) : "none")} | {c.Missed} | {F(c.LatencyLoad)} |");
}

if (ceilingsOnly)
{
    return 0;
}

var database = await server.CreateDatabaseAsync("bench_runs");
var work = Directory.CreateTempSubdirectory("runbook-bench-runs-").FullName;
Directory.CreateDirectory(Path.Combine(work, "runbooks"));
File.WriteAllText(Path.Combine(work, "runbooks", "noop3.csx"), Noop3);
File.WriteAllText(Path.Combine(work, "runbooks", "hold.csx"), """
    // ---
    // description: Holds in a step until the file it names exists
    // parameters:
    //   release: { type: string, required: true }
    // ---
    await Step("hold", async ct =>
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(20));
        while (!File.Exists(Params.Get<string>("release")) && await tick.WaitForNextTickAsync(ct))
        {
        }
    }, idempotent: true);
    """);

// A host's log lives only in this process, so a benchmark that dies of a host's error prints what the hosts logged.
var started = new List<(string Id, HostProcess Host)>();
AppDomain.CurrentDomain.UnhandledException += (_, _) =>
{
    foreach (var (id, host) in started)
    {
        var log = host.Log;
        Console.Error.WriteLine($"--- {id} log (last 8,000 characters) ---\n{log[^Math.Min(log.Length, 8000)..]}");
    }
};

async Task<HostProcess> StartNodeAsync(string id, bool executes = true)
{
    var host = await StartHostAsync(id, executes);
    started.Add((id, host));
    return host;
}

Task<HostProcess> StartHostAsync(string id, bool executes) => HostProcess.StartAsync(work, new Dictionary<string, string>
{
    ["RunbookEngine__Storage"] = "postgres",
    ["RunbookEngine__ConnectionString"] = database,
    ["RunbookEngine__NodeId"] = id,
    ["RunbookEngine__ExecutesRuns"] = executes ? "true" : "false",
    ["RunbookEngine__MaxConcurrentRuns"] = Threads.ToString(CultureInfo.InvariantCulture),
    ["RUNBOOKENGINE_CACHE"] = Path.Combine(work, "cache"),
    ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
});

var nodeA = await StartNodeAsync("bench-a");
using var httpA = Client(nodeA);

await WarmUpAsync(httpA);
var same = await LatenciesAsync(httpA, 200);
Report("trigger to first step, same node, via the API (ms): p50 / p99 / max, n=200", Percentiles(same));
Report($"runs/s, 3 journaled no-op steps, {Runs} runs from {Senders} senders, one node", await ThroughputAsync([httpA]));

// A node that records and schedules runs but never executes them: every run it takes is picked up by node A.
var front = await StartNodeAsync("bench-front", executes: false);
using var httpFront = Client(front);
await WarmUpAsync(httpFront);
var cross = await LatenciesAsync(httpFront, 100);
Report("trigger to first step, cross node (API on a non-executing node, run on node A) (ms): p50 / p99 / max, n=100", Percentiles(cross));

var nodeB = await StartNodeAsync("bench-b");
using var httpB = Client(nodeB);
await WarmUpAsync(httpB);
Report($"runs/s, 3 journaled no-op steps, {Runs} runs from {Senders} senders, two executing nodes", await ThroughputAsync([httpA, httpB]));

// Recovery: a run holds in an idempotent step; kill -9 its node; time from the kill to the step starting again on the other.
var nodes = new Dictionary<string, HostProcess> { ["bench-a"] = nodeA, ["bench-b"] = nodeB };
var recoveries = new List<double>();
for (var i = 0; i < 3; i++)
{
    var release = Path.Combine(work, $"release-{i}");
    var runId = await TriggerAsync(httpFront, "hold", new { release });
    JsonElement run;
    do
    {
        run = await httpFront.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}");
    }
    while (run.GetProperty("steps").GetArrayLength() == 0);
    var victim = run.GetProperty("run").GetProperty("node").GetString()!;
    nodes[victim].Kill();
    var killedAt = TimeProvider.System.GetUtcNow();
    DateTimeOffset restarted;
    while (true)
    {
        run = await httpFront.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}");
        if (run.GetProperty("run").GetProperty("attempt").GetInt32() == 2 && run.GetProperty("steps").GetArrayLength() > 0
            && run.GetProperty("steps")[0].GetProperty("startedAt").GetDateTimeOffset() is var at && at > killedAt)
        {
            restarted = at;
            break;
        }

        await Task.Delay(20);
    }

    recoveries.Add((restarted - killedAt).TotalMilliseconds);
    File.WriteAllText(release, "go");
    await httpFront.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}?wait=2m");
    await nodes[victim].DisposeAsync();
    nodes[victim] = await StartNodeAsync(victim);
}

Report("recovery: kill -9 of the executing node to its run's step starting again on the other node (ms), 3 kills", string.Join(" / ", recoveries.Select(F)));

// Cancel across nodes: asked of the front node, which runs nothing, so the running node hears of it through the store
// (its claim heartbeat, once a second); timed from the request to the run recorded Cancelled.
var cancels = new List<double>();
for (var i = 0; i < 10; i++)
{
    var runId = await TriggerAsync(httpFront, "hold", new { release = Path.Combine(work, $"never-{i}") });
    JsonElement run;
    do
    {
        run = await httpFront.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}");
    }
    while (run.GetProperty("steps").GetArrayLength() == 0);
    var asked = TimeProvider.System.GetTimestamp();
    using (var cancel = await httpFront.PostAsync($"/api/runs/{runId}/cancel", null))
    {
        cancel.EnsureSuccessStatusCode();
    }

    while ((await httpFront.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}")).GetProperty("run").GetProperty("status").GetString() != "Cancelled")
    {
        await Task.Delay(20);
    }

    cancels.Add(TimeProvider.System.GetElapsedTime(asked).TotalMilliseconds);
}

cancels.Sort();
Report("cancel asked of a node that does not run the run, to the run recorded Cancelled (ms): p50 / p99 / max, n=10", Percentiles(cancels));

await front.DisposeAsync();
foreach (var node in nodes.Values)
{
    await node.DisposeAsync();
}

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL 15 with fsync on, started by the benchmark; {Threads} run threads per node");
Console.WriteLine($"1-minute load average at the end: {F(Ceilings.LoadAverage())} (each figure's is on standard error)");
Console.WriteLine("| figure | value |");
Console.WriteLine("|---|---|");
foreach (var (figure, value) in rows)
{
    Console.WriteLine($"| {figure} | {value} |");
}

Console.WriteLine($"| our runs/s on one node ÷ raw Quartz jobs/s (median of the rounds, {quartzRate:0}) | {OneNodeRate() / quartzRate:0.00} |");
Console.WriteLine($"| our runs/s on one node ÷ raw Hangfire jobs/s, 200 ms polling (median of the rounds, {hangfireRate:0}) | {OneNodeRate() / hangfireRate:0.00} |");
return 0;

// The embedded default: one host on SQLite with Hangfire's jobs in memory. Latency and runs/s as above, then a kill -9
// with runs queued and running, and a restart: every run must still end, dispatched again from the run store.
async Task<int> EmbeddedAsync()
{
    var folder = Directory.CreateTempSubdirectory("runbook-bench-embedded-").FullName;
    Directory.CreateDirectory(Path.Combine(folder, "runbooks"));
    File.WriteAllText(Path.Combine(folder, "runbooks", "noop3.csx"), Noop3);
    File.WriteAllText(Path.Combine(folder, "runbooks", "pause3.csx"), """
        // ---
        // description: Three journaled steps of 50 ms each, so a kill finds runs in flight
        // ---
        await Step("one", ct => Task.Delay(50, ct), idempotent: true);
        await Step("two", ct => Task.Delay(50, ct), idempotent: true);
        await Step("three", ct => Task.Delay(50, ct), idempotent: true);
        """);
    var settings = new Dictionary<string, string>
    {
        ["RunbookEngine__MaxConcurrentRuns"] = Threads.ToString(CultureInfo.InvariantCulture),
        ["RUNBOOKENGINE_CACHE"] = Path.Combine(folder, "cache"),
        ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
    };
    var host = await HostProcess.StartAsync(folder, settings);
    try
    {
        using (var http = Client(host))
        {
            await WarmUpAsync(http);
            Report("embedded (SQLite, Hangfire in memory): trigger to first step via the API (ms): p50 / p99 / max, n=200", Percentiles(await LatenciesAsync(http, 200)));
            Report($"embedded: runs/s, 3 journaled no-op steps, {Runs} runs from {Senders} senders", await ThroughputAsync([http]));

            // 500 runs queued at once, then the host is killed while most are queued or running.
            var ids = new string[500];
            await Parallel.ForEachAsync(Enumerable.Range(0, ids.Length), new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (i, _) =>
                ids[i] = await TriggerAsync(http, "pause3", new { }));
            host.Kill();
            var killedAt = TimeProvider.System.GetTimestamp();
            await host.DisposeAsync();
            host = await HostProcess.StartAsync(folder, settings);
            using var after = Client(host);
            var ended = await Task.WhenAll(ids.Select(id => EndedAsync(after, id)));
            var took = TimeProvider.System.GetElapsedTime(killedAt).TotalSeconds;
            var succeeded = ended.Count(r => r.GetProperty("run").GetProperty("status").GetString() == "Succeeded");
            var resumed = ended.Count(r => r.GetProperty("run").GetProperty("attempt").GetInt32() > 1);
            Report("embedded: 500 runs of three 50 ms steps queued, host killed with -9 and restarted: succeeded / resumed mid-run / seconds from the kill to the last run ending", $"{succeeded} / {resumed} / {F(took)}");
        }
    }
    finally
    {
        await host.DisposeAsync();
    }

    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; one host on SQLite (WAL), Hangfire.InMemory; {Threads} workers");
    Console.WriteLine("| figure | value |");
    Console.WriteLine("|---|---|");
    foreach (var (figure, value) in rows)
    {
        Console.WriteLine($"| {figure} | {value} |");
    }

    return 0;
}

void PrintCeiling((int Round, CeilingRound Figures) ceiling)
{
    var c = ceiling.Figures;
    Console.Error.WriteLine($"round {ceiling.Round}, {c.Name}: {c.JobsPerSecond:0} no-op jobs/s ({F(c.Seconds)} s, {c.Executed}/{c.Jobs} executed, load {F(c.ThroughputLoad)}); "
        + $"enqueue to execute p50 / p99 / max {(c.Latencies.Count > 0 ? Percentiles([.. c.Latencies]) : "none")} ms, {c.Missed} missed (load {F(c.LatencyLoad)})");
}

static double Median(IEnumerable<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count == 0 ? double.NaN : sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}

double OneNodeRate() => double.Parse(rows.First(r => r.Figure.StartsWith("runs/s", StringComparison.Ordinal)).Value.Split(' ')[0], CultureInfo.InvariantCulture);

static HttpClient Client(HostProcess host) => new() { BaseAddress = host.Address, Timeout = TimeSpan.FromMinutes(5) };

static async Task<string> TriggerAsync(HttpClient http, string runbook, object parameters)
{
    using var response = await http.PostAsJsonAsync($"/api/runbooks/{runbook}/runs", new { parameters });
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
}

static async Task<JsonElement> EndedAsync(HttpClient http, string id) => await http.GetFromJsonAsync<JsonElement>($"/api/runs/{id}?wait=2m");

static async Task WarmUpAsync(HttpClient http)
{
    for (var i = 0; i < 30; i++)
    {
        await EndedAsync(http, await TriggerAsync(http, "noop3", new { }));
    }
}

// One run at a time; from just before the POST to the first step's recorded start (all processes share the clock).
static async Task<List<double>> LatenciesAsync(HttpClient http, int count)
{
    var latencies = new List<double>();
    for (var i = 0; i < count; i++)
    {
        var sent = TimeProvider.System.GetUtcNow();
        var run = await EndedAsync(http, await TriggerAsync(http, "noop3", new { }));
        latencies.Add((run.GetProperty("steps")[0].GetProperty("startedAt").GetDateTimeOffset() - sent).TotalMilliseconds);
    }

    latencies.Sort();
    return latencies;
}

static string Percentiles(List<double> sorted)
{
    double P(double q) => sorted[(int)Math.Ceiling(sorted.Count * q) - 1];
    return $"{P(0.5).ToString("0.0", CultureInfo.InvariantCulture)} / {P(0.99).ToString("0.0", CultureInfo.InvariantCulture)} / {sorted[^1].ToString("0.0", CultureInfo.InvariantCulture)}";
}

// Runs posted by concurrent senders (spread over the given nodes' APIs); from the first queuedAt to the last finishedAt.
static async Task<string> ThroughputAsync(HttpClient[] apis)
{
    var ids = new string[Runs];
    await Parallel.ForEachAsync(Enumerable.Range(0, Runs), new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (i, _) =>
        ids[i] = await TriggerAsync(apis[i % apis.Length], "noop3", new { }));
    var ended = new JsonElement[Runs];
    await Parallel.ForEachAsync(Enumerable.Range(0, Runs), new ParallelOptions { MaxDegreeOfParallelism = Senders }, async (i, _) =>
        ended[i] = await EndedAsync(apis[i % apis.Length], ids[i]));
    var first = ended.Min(r => r.GetProperty("run").GetProperty("queuedAt").GetDateTimeOffset());
    var last = ended.Max(r => r.GetProperty("run").GetProperty("finishedAt").GetDateTimeOffset());
    var succeeded = ended.Count(r => r.GetProperty("run").GetProperty("status").GetString() == "Succeeded");
    var seconds = (last - first).TotalSeconds;
    return $"{Runs / seconds:0} ({succeeded} succeeded, {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s)";
}
