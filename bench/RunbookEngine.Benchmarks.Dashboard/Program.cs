using System.Diagnostics;
using System.Globalization;
using Npgsql;
using RunbookEngine.Benchmarks.Alerts;
using RunbookEngine.Benchmarks.Dashboard;
using RunbookEngine.Runs;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

// Dashboard page times for docs/benchmarks.md: one PostgreSQL (started here, fsync on) seeded by COPY with 100,000 runs of
// 20 runbooks over 90 days and 1,000,000 steps, one real host process on it, and 50 requests of each page one at a time
// after a warm-up. Each page reports its own server time (Server-Timing: render;dur=, handler start to HTML built); the
// wall time is the client's, from sending the request to the whole body read. The indexes named in --without (by default
// the ones added for the dashboard: the two pg_trgm GIN indexes that MigrateAsync creates on PostgreSQL, and the one of
// migration step 5) are dropped for a first pass (before) and created again for a second (after), so one run gives the
// figures before and after them; EXPLAIN (ANALYZE) of each page's runs query (the store's SQL, rebuilt in Plans.cs) is
// printed for every pass. Then, with the host stopped, what the trigram indexes cost writers: runs inserted, started and
// finished through SqlRunStore, one transaction each, --writes of them (default 5,000) with the two GIN indexes and as
// many without, in eight blocks ordered with, without, without, with, with, without, without, with.
// The trigram indexes are dropped for the COPY and built after it (--seed-with-indexes keeps them through the COPY).
// `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Dashboard [-- --without ix_a,ix_b | --without none] [--writes N] [--seed-with-indexes]`.
// `-- --incident` measures only the incident page instead (IncidentBench.cs).
const int Samples = 50;
const int WarmUpRounds = 5;
const double BudgetMs = 200;

// What MigrateAsync adds on PostgreSQL for search (PostgresDialect.OptionalIndexes) and migration step 5 for the run page.
string[] trigramIndexes = ["ix_runbook_runs_search", "ix_runbook_runs_target_search"];
string[] newIndexes = [.. trigramIndexes, "ix_runbook_runs_retry"];
var without = args.SkipWhile(a => a != "--without").Skip(1).FirstOrDefault();
if (without is not null)
{
    newIndexes = without == "none" ? [] : without.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

var writes = int.Parse(args.SkipWhile(a => a != "--writes").Skip(1).FirstOrDefault() ?? "5000", CultureInfo.InvariantCulture);
var seedWithIndexes = args.Contains("--seed-with-indexes");

var loadBefore = LoadAverage();
var server = await PostgresServer.StartDurableAsync();
try
{
    if (args.Contains("--incident"))
    {
        return await IncidentBench.MeasureAsync(server);
    }

    Plans.CheckInStep();
    return await MeasureAsync(server, trigramIndexes, newIndexes, writes, seedWithIndexes, loadBefore);
}
catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TimeoutException or NpgsqlException or FormatException)
{
    // Returning (rather than crashing) lets the throwaway PostgreSQL stop on the way out.
    Console.Error.WriteLine($"the benchmark failed: {ex}");
    return 1;
}

static async Task<int> MeasureAsync(PostgresServer server, string[] trigramIndexes, string[] newIndexes, int writes, bool seedWithIndexes, string loadBefore)
{
    var database = await server.CreateDatabaseAsync("bench_dashboard");
    await using (var store = SqlRunStore.Postgres(database, TimeProvider.System))
    {
        await store.MigrateAsync(CancellationToken.None);
    }

    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    var schema = await ScalarAsync<int>(connection, "SELECT MAX(version) FROM runbook_schema");
    var trigrams = new List<(string Name, string Definition)>();
    foreach (var index in trigramIndexes)
    {
        if (await ScalarAsync<string?>(connection, $"SELECT indexdef FROM pg_indexes WHERE indexname = '{index}'") is { } definition)
        {
            trigrams.Add((index, definition));
        }
        else
        {
            Console.Error.WriteLine($"note: MigrateAsync did not create {index} (is pg_trgm available?); the pages run without it");
        }
    }

    Console.Error.WriteLine($"schema version {schema}; seeding {Seeder.Runs:N0} runs and {Seeder.Runs * Seeder.StepsPerRun:N0} steps ...");
    var data = await Seeder.SeedAsync(database, TimeProvider.System.GetUtcNow(), seedWithIndexes ? [] : [.. trigrams.Select(t => t.Name)]);
    Console.Error.WriteLine($"seeded: {data.Counts}");
    var deepId = await ScalarAsync<string>(connection, "SELECT id FROM runbook_runs ORDER BY queued_at DESC, id DESC OFFSET 50000 LIMIT 1");
    var retryId = await ScalarAsync<string>(connection, $"SELECT id FROM runbook_runs WHERE retry_of = '{data.AlertRunId}'");

    var work = Directory.CreateTempSubdirectory("runbook-bench-dashboard-").FullName;
    Directory.CreateDirectory(Path.Combine(work, "runbooks"));
    foreach (var name in data.Runbooks)
    {
        File.WriteAllText(Path.Combine(work, "runbooks", name + ".csx"), $"""
            // ---
            // description: Stands in for {name} in the dashboard benchmark
            // parameters:
            //   host: {"{"} type: string, default: localhost {"}"}
            // ---
            await Step("one", ct => Task.CompletedTask);
            """);
    }

    await using var node = await HostProcess.StartAsync(work, new Dictionary<string, string>
    {
        ["RunbookEngine__Storage"] = "postgres",
        ["RunbookEngine__ConnectionString"] = database,
        ["RunbookEngine__NodeId"] = "bench-dashboard",
        ["RUNBOOKENGINE_CACHE"] = Path.Combine(work, "cache"),
        ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
    });
    using var http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
    {
        BaseAddress = node.Address,
        Timeout = TimeSpan.FromMinutes(5),
    };

    var counts = new Dictionary<string, long>
    {
        ["runbook"] = await ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM runbook_runs WHERE runbook = '{data.FilteredRunbook}'"),
        ["failed"] = await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM runbook_runs WHERE status = 'Failed'"),
        ["retry"] = await ScalarAsync<long>(connection, "SELECT COUNT(*) FROM runbook_runs WHERE trigger_kind = 'Retry'"),
        ["target"] = await ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM runbook_runs WHERE LOWER(target) LIKE '%{data.Target}%'"),
        ["person"] = await ScalarAsync<long>(connection, $"SELECT COUNT(*) FROM runbook_runs WHERE LOWER(triggered_by) LIKE '%{data.Person}%' OR LOWER(parameters) LIKE '%{data.Person}%'"),
    };
    string Share(string key) => string.Create(CultureInfo.InvariantCulture, $"{counts[key]:N0} runs, {100.0 * counts[key] / Seeder.Runs:0.0}%");
    const string Nothing = "zz-no-such-text";
    const string NoHost = "zz-no-such-host";
    Probe[] probes =
    [
        new("runs, first page", "/", "<tr data-run=", new RunFilter()),
        new($"runs, runbook filter ({Share("runbook")})", $"/?runbook={data.FilteredRunbook}", "<tr data-run=", new RunFilter(Runbook: data.FilteredRunbook)),
        new($"runs, status=Failed ({Share("failed")})", "/?status=Failed", "<tr data-run=", new RunFilter(Status: "Failed")),
        new($"runs, trigger=Retry ({Share("retry")})", "/?trigger=Retry", "<tr data-run=", new RunFilter(Trigger: "Retry")),
        new($"runs, target contains \"{data.Target}\" ({Share("target")})", $"/?target={data.Target}", "<tr data-run=", new RunFilter(Target: data.Target)),
        new($"runs, target contains \"{NoHost}\" (no match)", $"/?target={NoHost}", "<tr data-run=", new RunFilter(Target: NoHost)),
        new("runs, alert id filter (1 run)", $"/?alert={data.AlertId}", "<tr data-run=", new RunFilter(AlertId: data.AlertId)),
        new($"runs, search \"{data.Person}\" ({Share("person")})", $"/?q={data.Person}", "<tr data-run=", new RunFilter(Text: data.Person)),
        new($"runs, search \"{Nothing}\" (no match: every row read)", $"/?q={Nothing}", "<tr data-run=", new RunFilter(Text: Nothing)),
        new("runs, deep page (before= the 50,001st newest run)", $"/?before={deepId}", "<tr data-run=", new RunFilter(Before: deepId)),
        new("run page: alert-started, failed, retried (10 steps)", $"/runs/{data.AlertRunId}", "class=\"step\"", new RunFilter(RetryOf: data.AlertRunId, Limit: 20)),
        new("run page: scheduled, succeeded (10 steps)", $"/runs/{data.PlainRunId}", "class=\"step\"", new RunFilter(RetryOf: data.PlainRunId, Limit: 20)),
        new("runbooks page (20 × last 20 runs)", "/runbooks", "<tr data-runbook=", new RunFilter(Runbook: data.Runbooks[^1], Limit: 20)),
    ];

    var present = new List<(string Name, string Definition, string Size)>();
    foreach (var index in newIndexes)
    {
        if (await ScalarAsync<string?>(connection, $"SELECT indexdef FROM pg_indexes WHERE indexname = '{index}'") is { } definition)
        {
            present.Add((index, definition, await ScalarAsync<string>(connection, $"SELECT pg_size_pretty(pg_relation_size('{index}'))")));
        }
        else
        {
            Console.Error.WriteLine($"note: index {index} does not exist; it is not part of the comparison");
        }
    }

    var phases = new List<(string Name, List<Row> Rows, string Cpu)>();
    // Other work on the machine changes these figures a lot; "other" in the CPU split shows how much there was.
    var meter = CpuMeter.Find(node.Address, new NpgsqlConnectionStringBuilder(database).Port);
    async Task PassAsync(string name)
    {
        var (from, machineFrom) = (meter.Take(), Cpu.Take());
        var rows = await PhaseAsync(http, connection, probes);
        phases.Add((name, rows, $"{meter.Describe(from, meter.Take())}; {Cpu.Describe(machineFrom, Cpu.Take())}"));
    }

    var rebuilt = new List<string>();
    if (present.Count > 0)
    {
        foreach (var (name, _, _) in present)
        {
            await ExecuteAsync(connection, $"DROP INDEX {name}");
        }

        await ExecuteAsync(connection, "ANALYZE runbook_runs");
        await PassAsync($"schema version {schema} without {string.Join(", ", present.Select(p => p.Name))} (before)");
        foreach (var (name, definition, size) in present)
        {
            var build = Stopwatch.StartNew();
            await ExecuteAsync(connection, definition);
            rebuilt.Add(string.Create(CultureInfo.InvariantCulture, $"{name} ({size}) built in {build.Elapsed.TotalSeconds:0.0} s"));
        }

        await ExecuteAsync(connection, "ANALYZE runbook_runs");
        await ExecuteAsync(connection, "CHECKPOINT");
    }

    await PassAsync($"schema version {schema} as migrated{(present.Count > 0 ? " (after)" : "")}");

    // What the trigram indexes cost writers, with the host stopped so nothing else touches the runs (it would start them).
    await node.StopAsync(TimeSpan.FromSeconds(30));
    var writeBlocks = writes > 0 && trigrams.Count > 0 ? await WriteCostAsync(database, connection, trigrams, writes, meter) : [];

    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL {await ScalarAsync<string>(connection, "SHOW server_version")} started by the benchmark, fsync {await ScalarAsync<string>(connection, "SHOW fsync")}, shared_buffers {await ScalarAsync<string>(connection, "SHOW shared_buffers")}; one host process; load average {loadBefore} before, {LoadAverage()} after");
    Console.WriteLine($"dataset: {data.Counts}");
    Console.WriteLine($"requests: {Samples} of each URL one at a time, in rounds over all URLs, after {WarmUpRounds} warm-up rounds; budget {BudgetMs:0} ms server time");
    Console.WriteLine($"indexes dropped for the before pass and built again for the after pass: {(rebuilt.Count == 0 ? "none" : string.Join("; ", rebuilt))}");
    foreach (var (name, rows, cpu) in phases)
    {
        Console.WriteLine();
        Console.WriteLine($"### {name}");
        Console.WriteLine($"CPU over the pass (% of one core): {cpu}");
        Console.WriteLine();
        Console.WriteLine("| page | rows shown | server render p50 / p95 / max (ms) | wall p50 / p95 / max (ms) | ≤ 200 ms | its runs query, EXPLAIN ANALYZE (ms) | plan |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var row in rows)
        {
            Console.WriteLine($"| {row.Probe.Name} | {row.Shown} | {Percentiles(row.Render)} | {Percentiles(row.Wall)} | {(row.Render[^1] <= BudgetMs ? "yes" : row.Render[(int)Math.Ceiling(Samples * 0.95) - 1] <= BudgetMs ? "p95 yes, max no" : "**no**")} | {row.ExplainMs:0.0} | {row.Shape} |");
        }
    }

    if (writeBlocks.Count > 0)
    {
        Console.WriteLine();
        Console.WriteLine($"### writes: runs inserted, started and finished through SqlRunStore, one transaction each, with and without {string.Join(" and ", trigrams.Select(t => t.Name))}");
        foreach (var block in writeBlocks)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"- block {block.Name}: {block.Insert.Count} runs, {(block.Insert.Sum() + block.Start.Sum() + block.Finish.Sum()) / 1000:0.0} s, WAL {block.WalBytes / block.Insert.Count / 1024.0:0.0} kB per run; CPU {block.Cpu}"));
        }

        Console.WriteLine();
        Console.WriteLine("| trigram indexes | runs | INSERT (CreateRunAsync): runs/s, p50 / p99 / max ms | UPDATE to Running (StartRunAsync): runs/s, p50 / p99 / max ms | UPDATE status, error (FinishRunAsync): runs/s, p50 / p99 / max ms | all three: runs/s | WAL per run (kB) |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var with in new[] { true, false })
        {
            var blocks = writeBlocks.Where(b => b.WithIndexes == with).ToArray();
            string Op(Func<WriteBlock, List<double>> pick)
            {
                var all = blocks.SelectMany(pick).Order().ToList();
                return string.Create(CultureInfo.InvariantCulture, $"{all.Count / (all.Sum() / 1000):0} runs/s, {Percentiles(all, 0.99)}");
            }

            var runs = blocks.Sum(b => b.Insert.Count);
            var seconds = blocks.Sum(b => b.Insert.Sum() + b.Start.Sum() + b.Finish.Sum()) / 1000;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {(with ? "with" : "without")} | {runs:N0} | {Op(b => b.Insert)} | {Op(b => b.Start)} | {Op(b => b.Finish)} | {runs / seconds:0} | {blocks.Sum(b => b.WalBytes) / runs / 1024.0:0.0} |"));
        }
    }

    Console.WriteLine();
    Console.WriteLine($"retried run {data.AlertRunId} is retried by {retryId}");
    return 0;
}

// Warm-up rounds, then the measured rounds: every URL once per round, so drift on the shared machine spreads over all of them.
static async Task<List<Row>> PhaseAsync(HttpClient http, NpgsqlConnection connection, Probe[] probes)
{
    var render = probes.Select(_ => new List<double>()).ToArray();
    var wall = probes.Select(_ => new List<double>()).ToArray();
    var shown = new int[probes.Length];
    for (var round = 0; round < WarmUpRounds + Samples; round++)
    {
        for (var i = 0; i < probes.Length; i++)
        {
            var (renderMs, wallMs, body) = await GetAsync(http, probes[i].Url);
            shown[i] = Occurrences(body, probes[i].Marker);
            if (round >= WarmUpRounds)
            {
                render[i].Add(renderMs);
                wall[i].Add(wallMs);
            }
        }
    }

    var rows = new List<Row>();
    for (var i = 0; i < probes.Length; i++)
    {
        var (sql, parameters) = await Plans.RunsQueryAsync(connection, probes[i].Filter);
        var (ms, plan) = await Plans.ExplainAsync(connection, sql, parameters);
        Console.Error.WriteLine($"--- {probes[i].Name}: {probes[i].Url}\n{sql}\n{plan}");
        render[i].Sort();
        wall[i].Sort();
        rows.Add(new Row(probes[i], shown[i], render[i], wall[i], ms, Plans.Shape(plan)));
        Console.Error.WriteLine($"{probes[i].Name}: render {Percentiles(render[i])}, wall {Percentiles(wall[i])}, EXPLAIN {ms:0.0} ms");
    }

    return rows;
}

static async Task<(double RenderMs, double WallMs, string Body)> GetAsync(HttpClient http, string url)
{
    var clock = Stopwatch.StartNew();
    using var response = await http.GetAsync(url);
    var body = await response.Content.ReadAsStringAsync();
    var wall = clock.Elapsed.TotalMilliseconds;
    if (!response.IsSuccessStatusCode)
    {
        throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 500)]}");
    }

    var timing = response.Headers.TryGetValues("Server-Timing", out var values) ? values.First() : throw new InvalidOperationException($"GET {url} has no Server-Timing header");
    var render = double.Parse(timing.Split("dur=", 2)[1].Split(';', ',')[0], CultureInfo.InvariantCulture);
    return (render, wall, body);
}

static int Occurrences(string text, string marker)
{
    var count = 0;
    for (var at = text.IndexOf(marker, StringComparison.Ordinal); at >= 0; at = text.IndexOf(marker, at + marker.Length, StringComparison.Ordinal))
    {
        count++;
    }

    return count;
}

static string Percentiles(List<double> sorted, double high = 0.95)
{
    double P(double q) => sorted[(int)Math.Ceiling(sorted.Count * q) - 1];
    return string.Create(CultureInfo.InvariantCulture, $"{P(0.5):0.0} / {P(high):0.0} / {sorted[^1]:0.0}");
}

// Runs written as the engine writes them (SqlRunStore: CreateRunAsync, StartRunAsync, FinishRunAsync; each its own
// transaction, committed with fsync), one at a time, on the seeded table of 100,000 runs. Eight blocks of writes / 4 runs,
// with the trigram indexes, without, without, with, and again (so drift on the machine falls on both alike); before each block the
// runs of the last one are deleted, the table vacuumed (which also empties the GIN pending lists) and a checkpoint taken.
static async Task<List<WriteBlock>> WriteCostAsync(string database, NpgsqlConnection connection, List<(string Name, string Definition)> indexes, int writes, CpuMeter meter)
{
    var random = new Random(20261126);
    var hosts = Enumerable.Range(1, 40).Select(i => $"web-{i:00}.prod.example.net").Concat(Enumerable.Range(1, 120).Select(i => $"worker-{i:000}.prod.example.net")).ToArray();
    string[] services = ["nginx", "api-gateway", "postgres", "redis", "kafka", "search", "billing-worker", "ingest"];
    var blocks = new List<WriteBlock>();
    var present = true;
    await using var store = SqlRunStore.Postgres(database, TimeProvider.System);
    bool[] order = [true, false, false, true, true, false, false, true];
    for (var b = 0; b < order.Length; b++)
    {
        var with = order[b];
        var name = $"{b + 1} {(with ? "with" : "without")}";
        if (with != present)
        {
            foreach (var (index, definition) in indexes)
            {
                await ExecuteAsync(connection, with ? definition : $"DROP INDEX {index}");
            }

            present = with;
        }

        await ExecuteAsync(connection, "VACUUM (ANALYZE) runbook_runs");
        await ExecuteAsync(connection, "CHECKPOINT");
        var count = writes / 4;
        var ids = new List<string>(count);
        var (insert, start, finish) = (new List<double>(count), new List<double>(count), new List<double>(count));
        var walFrom = await ScalarAsync<string>(connection, "SELECT pg_current_wal_lsn()::text");
        var (from, machineFrom) = (meter.Take(), Cpu.Take());
        for (var i = 0; i < count; i++)
        {
            var host = hosts[random.Next(hosts.Length)];
            var service = services[random.Next(services.Length)];
            var trigger = random.Next(3) switch { 0 => RunTrigger.Alert, 1 => RunTrigger.Schedule, _ => RunTrigger.Manual };
            var parameters = $$"""{"service":"{{service}}","timeout":"{{1 + random.Next(10)}}m","host":"{{host}}"}""";
            var clock = Stopwatch.StartNew();
            var run = await store.CreateRunAsync(
                new NewRun(Seeder.Runbooks[random.Next(Seeder.Runbooks.Length)], "0123456789abcdef0123456789abcdef01234567", "hash-" + i, trigger,
                    trigger == RunTrigger.Alert ? "alertmanager" : trigger == RunTrigger.Schedule ? "schedule" : "alice", parameters, Target: host, ManualMinutes: 15),
                CancellationToken.None);
            insert.Add(clock.Elapsed.TotalMilliseconds);
            ids.Add(run.Id);
        }

        foreach (var id in ids)
        {
            var clock = Stopwatch.StartNew();
            _ = await store.StartRunAsync(id, "bench-writes", recovering: false, CancellationToken.None);
            start.Add(clock.Elapsed.TotalMilliseconds);
        }

        foreach (var id in ids)
        {
            // 13% end with an error line, as in the seeded history.
            var failed = random.NextDouble() < 0.13;
            var clock = Stopwatch.StartNew();
            _ = await store.FinishRunAsync(id, failed ? RunStatus.Failed : RunStatus.Succeeded,
                failed ? $"step 'verify' failed: error rate on {services[random.Next(services.Length)]} still 12.4% after the fix (threshold 1%)" : null,
                CancellationToken.None);
            finish.Add(clock.Elapsed.TotalMilliseconds);
        }

        var cpu = $"{meter.Describe(from, meter.Take())}; {Cpu.Describe(machineFrom, Cpu.Take())}";
        var wal = await ScalarAsync<decimal>(connection, $"SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '{walFrom}')");
        blocks.Add(new WriteBlock(name, with, insert, start, finish, (long)wal, cpu));
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"writes, block {name}: insert {insert.Sum() / 1000:0.0} s, start {start.Sum() / 1000:0.0} s, finish {finish.Sum() / 1000:0.0} s for {count} runs"));
        await using var delete = new NpgsqlCommand("DELETE FROM runbook_runs WHERE id = ANY(@ids)", connection);
        delete.Parameters.AddWithValue("ids", ids.ToArray());
        await delete.ExecuteNonQueryAsync();
    }

    if (!present)
    {
        foreach (var (_, definition) in indexes)
        {
            await ExecuteAsync(connection, definition);
        }
    }

    return blocks;
}

static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql)
{
    await using var command = new NpgsqlCommand(sql, connection);
    var value = await command.ExecuteScalarAsync();
    return value is null or DBNull ? default! : (T)value;
}

static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
{
    await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 0 };
    await command.ExecuteNonQueryAsync();
}

static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

/// <summary>One measured URL: what it shows (counted by a marker in the HTML) and the runs query it makes, for EXPLAIN.</summary>
internal sealed record Probe(string Name, string Url, string Marker, RunFilter Filter);

/// <summary>The figures of one URL in one pass.</summary>
internal sealed record Row(Probe Probe, int Shown, List<double> Render, List<double> Wall, double ExplainMs, string Shape);

/// <summary>One block of the write measurement: each call's time in ms, per operation.</summary>
internal sealed record WriteBlock(string Name, bool WithIndexes, List<double> Insert, List<double> Start, List<double> Finish, long WalBytes, string Cpu);
