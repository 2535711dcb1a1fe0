using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using RunbookEngine.TestSupport;

// Run benchmarks for docs/benchmarks.md: a real host process on a PostgreSQL started here with fsync on.
// `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Runs` prints a Markdown table.
var server = await PostgresServer.StartDurableAsync();
var database = await server.CreateDatabaseAsync("bench_runs");
var work = Directory.CreateTempSubdirectory("runbook-bench-runs-").FullName;
Directory.CreateDirectory(Path.Combine(work, "runbooks"));
File.WriteAllText(Path.Combine(work, "runbooks", "noop3.csx"), """
    // ---
    // description: Three journaled no-op steps
    // ---
    await Step("one", ct => Task.CompletedTask);
    await Step("two", ct => Task.CompletedTask);
    await Step("three", ct => Task.CompletedTask);
    """);
await using var host = await HostProcess.StartAsync(work, new Dictionary<string, string>
{
    ["RunbookEngine__Storage"] = "postgres",
    ["RunbookEngine__ConnectionString"] = database,
    ["RunbookEngine__NodeId"] = "bench-0",
    ["RUNBOOKENGINE_CACHE"] = Path.Combine(work, "cache"),
    ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
});
using var http = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromMinutes(5) };

async Task<string> TriggerAsync()
{
    using var response = await http.PostAsJsonAsync("/api/runbooks/noop3/runs", new { parameters = new { } });
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
}

async Task<JsonElement> EndedAsync(string id) => await http.GetFromJsonAsync<JsonElement>($"/api/runs/{id}?wait=2m");

// Warm up: compile caches, JIT, connection pools.
for (var i = 0; i < 30; i++)
{
    await EndedAsync(await TriggerAsync());
}

// Latency: one run at a time; from just before the POST to the first step's recorded start (same machine clock).
var latencies = new List<double>();
for (var i = 0; i < 200; i++)
{
    var sent = TimeProvider.System.GetUtcNow();
    var run = await EndedAsync(await TriggerAsync());
    var firstStep = run.GetProperty("steps")[0].GetProperty("startedAt").GetDateTimeOffset();
    latencies.Add((firstStep - sent).TotalMilliseconds);
}

// Throughput: 1,000 runs posted by 16 concurrent senders; from the first queuedAt to the last finishedAt.
const int runs = 1000;
using var senders = new SemaphoreSlim(16);
var ids = await Task.WhenAll(Enumerable.Range(0, runs).Select(async _ =>
{
    await senders.WaitAsync();
    try
    {
        return await TriggerAsync();
    }
    finally
    {
        senders.Release();
    }
}));
var ended = await Task.WhenAll(ids.Select(async id =>
{
    await senders.WaitAsync();
    try
    {
        return await EndedAsync(id);
    }
    finally
    {
        senders.Release();
    }
}));
var first = ended.Min(r => r.GetProperty("run").GetProperty("queuedAt").GetDateTimeOffset());
var last = ended.Max(r => r.GetProperty("run").GetProperty("finishedAt").GetDateTimeOffset());
var succeeded = ended.Count(r => r.GetProperty("run").GetProperty("status").GetString() == "Succeeded");

latencies.Sort();
string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
double P(double q) => latencies[(int)Math.Ceiling(latencies.Count * q) - 1];
Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL with fsync on; one host node");
Console.WriteLine("| figure | value |");
Console.WriteLine("|---|---|");
Console.WriteLine($"| trigger to first step, same node, via the API (ms): p50 / p99 / max, n=200 | {F(P(0.5))} / {F(P(0.99))} / {F(latencies[^1])} |");
Console.WriteLine($"| runs/s, 3 journaled no-op steps, {runs} runs from 16 senders | {runs / (last - first).TotalSeconds:0} ({succeeded} succeeded, {F((last - first).TotalSeconds)} s) |");
return 0;
