using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using RunbookEngine.Benchmarks.Alerts;
using RunbookEngine.TestSupport;

// Alert webhook benchmarks for docs/benchmarks.md, on one host process on one PostgreSQL (started here, fsync on):
// alerts accepted per second from concurrent Alertmanager senders, webhook latency at a steady 1,000 alerts/s paced
// open-loop, alert received to its runbook's first step, and a storm of 100,000 alerts of which 1% match a runbook.
// `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Alerts [-- --storm-only] [--baseline DIR]`, where DIR
// holds another build of the host (RunbookEngine.Host.dll, e.g. the previous commit's) measured the same way, after
// this build, in the same run; `--storm-only` measures only the storm.
const int Senders = 50;
const int AlertsPerRequest = 10;
const int WarmUpRequests = 1_000;
const int Requests = 20_000;
const int PacedRequestsPerSecond = 100;
const int PacedSeconds = 30;
const int Fires = 200;
const int StormRequests = 10_000;
const string Unmatched = "BenchUnmatched";
const string Fire = "BenchFire";
var stormOnly = args.Contains("--storm-only");

// `--host-setting KEY=VALUE` (repeatable) configures the hosts of every variant, to compare settings.
var hostSettings = args.Select((a, i) => (a, i)).Where(p => p.a == "--host-setting" && p.i + 1 < args.Length)
    .Select(p => args[p.i + 1].Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);
var variants = new List<(string Name, string? HostDll)> { ("this build", null) };
if (Array.IndexOf(args, "--baseline") is var at and >= 0)
{
    var dll = at + 1 < args.Length ? Path.Combine(Path.GetFullPath(args[at + 1]), "RunbookEngine.Host.dll") : "";
    if (!File.Exists(dll))
    {
        Console.Error.WriteLine($"--baseline needs a folder holding RunbookEngine.Host.dll; '{dll}' does not exist");
        return 2;
    }

    variants.Add(("baseline", dll));
}

var loadBefore = LoadAverage();
var server = await PostgresServer.StartDurableAsync();
try
{
    var results = new List<List<(string Figure, string Value)>>();
    for (var i = 0; i < variants.Count; i++)
    {
        Console.Error.WriteLine($"measuring {variants[i].Name}");
        results.Add(await MeasureAsync(server, $"bench_alerts_{i}", variants[i].HostDll, stormOnly, hostSettings));
    }

    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL 15 with fsync on, started by the benchmark; one host node; load average {loadBefore} before, {LoadAverage()} after");
    Console.WriteLine($"| figure | {string.Join(" | ", variants.Select(v => v.Name))} |");
    Console.WriteLine($"|---|{string.Concat(variants.Select(_ => "---|"))}");
    foreach (var (figure, index) in results[0].Select((r, index) => (r.Figure, index)))
    {
        Console.WriteLine($"| {figure} | {string.Join(" | ", results.Select(r => index < r.Count ? r[index].Value : "n/a"))} |");
    }

    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or TimeoutException or NpgsqlException or JsonException or KeyNotFoundException)
{
    // Returning (rather than crashing) lets the throwaway PostgreSQL stop on the way out.
    Console.Error.WriteLine($"the benchmark failed: {ex}");
    return 1;
}

static async Task<List<(string Figure, string Value)>> MeasureAsync(PostgresServer server, string databaseName, string? hostDll, bool stormOnly, Dictionary<string, string> hostSettings)
{
    var rows = new List<(string Figure, string Value)>();
    string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
    void Report(string figure, string value)
    {
        rows.Add((figure, value));
        Console.Error.WriteLine($"{figure}: {value}");
    }

    var database = await server.CreateDatabaseAsync(databaseName);
    var work = Directory.CreateTempSubdirectory("runbook-bench-alerts-").FullName;
    Directory.CreateDirectory(Path.Combine(work, "runbooks"));
    File.WriteAllText(Path.Combine(work, "runbooks", "on-bench-fire.csx"), $"""
        // ---
        // description: Answers {Fire} alerts with one journaled no-op step
        // alerts:
        //   - name: {Fire}
        // ---
        await Step("act", ct => Task.CompletedTask);
        """);

    var settings = new Dictionary<string, string>(hostSettings)
    {
        ["RunbookEngine__Storage"] = "postgres",
        ["RunbookEngine__ConnectionString"] = database,
        ["RunbookEngine__NodeId"] = "bench-alerts",
        ["RunbookEngine__Alerts__Breaker__MaxRuns"] = "1000000",
        ["RUNBOOKENGINE_CACHE"] = Path.Combine(work, "cache"),
        ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
    };
    await using var node = await HostProcess.StartAsync(work, settings, hostDll);
    using var http = new HttpClient(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 128,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
    })
    {
        BaseAddress = node.Address,
        Timeout = TimeSpan.FromMinutes(5),
    };
    var cpu = CpuMeter.Find(node.Address, new NpgsqlConnectionStringBuilder(database).Port);
    if (!cpu.Complete)
    {
        Console.Error.WriteLine("note: could not find the host or the postmaster in /proc; their CPU shows as 0 or n/a");
    }

    if (!stormOnly)
    {
        // 1. Alerts accepted per second: senders post back to back, each request 10 alerts no runbook matches.
        var (_, warmUpProblems, warmedUp) = await BurstAsync(http, WarmUpRequests);
        if (!warmedUp)
        {
            throw new InvalidOperationException($"the warm-up did not get its alerts accepted: {warmUpProblems}");
        }

        await DrainAsync(database, "the warm-up");
        var burstCpuFrom = cpu.Take();
        var (burstSeconds, burstProblems, _) = await BurstAsync(http, Requests);
        var burstCpu = cpu.Describe(burstCpuFrom, cpu.Take());
        var burstAlerts = Requests * AlertsPerRequest;
        Report($"alerts accepted/s, {Senders} senders, {Requests} Alertmanager requests of {AlertsPerRequest} unmatched alerts, one node",
            $"{burstAlerts / burstSeconds:0} ({burstAlerts} alerts in {F(burstSeconds)} s; {burstProblems})");
        Report("webhook requests/s, same run", $"{Requests / burstSeconds:0}");
        Report("CPU while accepting (% of one core)", burstCpu);

        // Matching runs behind the webhook; let the backlog of the burst clear so it does not weigh on the next figures.
        var drainCpuFrom = cpu.Take();
        var (drained, drainSeconds) = await DrainAsync(database, "the burst");
        Report("matching backlog after the burst: alerts matched/s while draining (all Unautomated)",
            $"{drained / Math.Max(drainSeconds, 0.001):0} ({drained} alerts in {F(drainSeconds)} s; CPU {cpu.Describe(drainCpuFrom, cpu.Take())})");

        // 2. Webhook latency at a steady 1,000 alerts/s: sends on a fixed timetable, whatever earlier answers are doing.
        var pacedCpuFrom = cpu.Take();
        var (paced, pacedProblems, maxLag) = await PacedAsync(http);
        var pacedCpu = cpu.Describe(pacedCpuFrom, cpu.Take());
        Report($"webhook latency at {PacedRequestsPerSecond * AlertsPerRequest} alerts/s ({PacedRequestsPerSecond} requests/s of {AlertsPerRequest}, open loop, {PacedSeconds} s) (ms): p50 / p99 / max, n={paced.Count}",
            $"{Percentiles(paced)} ({pacedProblems}; sends at most {F(maxLag)} ms behind the timetable)");
        Report("CPU at 1,000 alerts/s (% of one core; matching runs alongside)", pacedCpu);
        await DrainAsync(database, "the paced run");

        // 3. Alert received to first step: one alert at a time, matched by the runbook above.
        for (var i = 0; i < 10; i++)
        {
            await FireAsync(http);
        }

        var fireCpuFrom = cpu.Take();
        var fires = new List<double[]>();
        for (var i = 0; i < Fires; i++)
        {
            fires.Add(await FireAsync(http));
        }

        List<double> Part(int index) => [.. fires.Select(f => f[index]).Order()];
        string Median(int index) => F(Part(index)[(Fires / 2) - 1]);
        Report($"alert received to first step (POST /hooks/alertmanager, one alert, to the run's first step starting) (ms): p50 / p99 / max, n={Fires}", Percentiles(Part(0)));
        Report("its parts, p50 each (ms): POST to alert stored (receivedAt, stored to the ms) / stored to run queued (matching) / queued to run started / run started to first step",
            $"{Median(1)} / {Median(2)} / {Median(3)} / {Median(4)}");
        Report("CPU while firing one at a time (% of one core)", cpu.Describe(fireCpuFrom, cpu.Take()));
    }

    if (stormOnly)
    {
        // The first requests and runs pay for JIT and connection pools; the storm should not.
        await BurstAsync(http, 200);
        await DrainAsync(database, "the warm-up");
        for (var i = 0; i < 5; i++)
        {
            await FireAsync(http);
        }
    }

    // 4. A storm: 100,000 alerts from the senders, 1% of them for the runbook above. Fully matched is when no alert is
    // left pending or being matched; each matching alert's run is timed from the alert's receipt (the host's clock).
    var stormFrom = TimeProvider.System.GetUtcNow();
    var stormCpuFrom = cpu.Take();
    var (stormSeconds, stormProblems, _) = await BurstAsync(http, StormRequests, Fire);
    var (_, stormDrainSeconds) = await DrainAsync(database, "the storm");
    var stormCpu = cpu.Describe(stormCpuFrom, cpu.Take());
    var stormAlerts = StormRequests * AlertsPerRequest;
    Report($"storm: {stormAlerts} alerts ({Senders} senders, {StormRequests} requests of {AlertsPerRequest}, 1% for a runbook): accepted in / fully matched in (s)",
        $"{F(stormSeconds)} / {F(stormSeconds + stormDrainSeconds)} ({stormAlerts / stormSeconds:0} alerts/s accepted; {stormProblems})");
    Report("CPU during the storm, until fully matched (% of one core)", stormCpu);
    var (queued, started, runs) = await StormRunsAsync(database, stormFrom, stormAlerts / 100);
    Report($"storm: a matching alert received to its run queued (ms): p50 / p99 / max, n={queued.Count}", Percentiles(queued));
    Report($"storm: a matching alert received to its run started (ms): p50 / p99 / max, n={started.Count}", $"{Percentiles(started)} ({runs})");

    var outcomes = await OutcomesAsync(database);
    Report("alerts stored, by outcome", string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));

    return rows;
}

// Posts the given number of requests of 10 alerts (unmatched, but for the storm's 1%) from the senders; answers the wall time and what went wrong.
static async Task<(double Seconds, string Problems, bool AllAccepted)> BurstAsync(HttpClient http, int requests, string? oneInHundred = null)
{
    var issued = 0;
    var ok = 0;
    var accepted = 0L;
    var duplicates = 0L;
    var others = new System.Collections.Concurrent.ConcurrentDictionary<int, int>();
    string? firstRefusal = null;
    var clock = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
    {
        while (Interlocked.Increment(ref issued) <= requests)
        {
            var (status, count, duplicate, answer) = await PostAsync(http, Payloads.Alertmanager(Unmatched, AlertsPerRequest, oneInHundred));
            if (status == 202)
            {
                Interlocked.Increment(ref ok);
                Interlocked.Add(ref accepted, count);
                Interlocked.Add(ref duplicates, duplicate);
            }
            else
            {
                others.AddOrUpdate(status, 1, (_, n) => n + 1);
                Interlocked.CompareExchange(ref firstRefusal, answer.ValueKind == JsonValueKind.Undefined ? "(no body)" : answer.GetRawText(), null);
            }
        }
    })));
    var seconds = clock.Elapsed.TotalSeconds;
    var allAccepted = ok == requests && accepted == (long)requests * AlertsPerRequest && duplicates == 0;
    var problems = allAccepted
        ? $"all {requests} answered 202, 0 duplicates"
        : $"{ok} of {requests} answered 202 ({string.Join(", ", others.Select(o => $"{o.Value}x {o.Key}"))}; first: {firstRefusal}), {accepted} accepted, {duplicates} duplicates";
    return (seconds, problems, allAccepted);
}

// 100 requests a second on a fixed timetable; each request's latency from its send to its whole answer.
static async Task<(List<double> Latencies, string Problems, double MaxLagMs)> PacedAsync(HttpClient http)
{
    var total = PacedRequestsPerSecond * PacedSeconds;
    var interval = TimeSpan.FromSeconds(1.0 / PacedRequestsPerSecond);
    var sends = new List<Task<(double Ms, int Status)>>(total);
    var maxLag = TimeSpan.Zero;
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < total; i++)
    {
        var due = interval * i;
        var wait = due - clock.Elapsed;
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait);
        }

        var lag = clock.Elapsed - due;
        maxLag = lag > maxLag ? lag : maxLag;
        var body = Payloads.Alertmanager(Unmatched, AlertsPerRequest);
        sends.Add(Task.Run(async () =>
        {
            var sent = Stopwatch.GetTimestamp();
            var (status, _, _, _) = await PostAsync(http, body);
            return (Stopwatch.GetElapsedTime(sent).TotalMilliseconds, status);
        }));
    }

    var results = await Task.WhenAll(sends);
    var latencies = results.Select(r => r.Ms).Order().ToList();
    var failed = results.Count(r => r.Status != 202);
    return (latencies, failed == 0 ? $"all {total} answered 202" : $"{failed} of {total} did not answer 202", maxLag.TotalMilliseconds);
}

// One alert for the runbook; from just before the POST to its run's first step's recorded start (one machine clock):
// [total, POST to receivedAt, receivedAt to run queuedAt, queuedAt to run startedAt, run startedAt to first step].
static async Task<double[]> FireAsync(HttpClient http)
{
    var sent = TimeProvider.System.GetUtcNow();
    var (status, answer) = await PostForAnswerAsync(http, Payloads.Alertmanager(Fire, 1));
    if (status != 202)
    {
        throw new InvalidOperationException($"the {Fire} webhook answered {status}: {answer}");
    }

    var alertId = answer.GetProperty("alerts")[0].GetProperty("id").GetString()!;
    string? runId = null;
    var receivedAt = sent;
    while (runId is null)
    {
        var alert = await http.GetFromJsonAsync<JsonElement>($"/api/alerts/{alertId}");
        runId = alert.GetProperty("decisions").EnumerateArray()
            .Select(d => d.TryGetProperty("runId", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null)
            .FirstOrDefault(r => r is not null);
        var outcome = alert.GetProperty("alert").GetProperty("outcome").GetString();
        receivedAt = alert.GetProperty("alert").GetProperty("receivedAt").GetDateTimeOffset();
        if (runId is null && outcome is not ("Pending" or "Matching"))
        {
            throw new InvalidOperationException($"alert {alertId} started no run: {alert}");
        }

        if (runId is null)
        {
            await Task.Delay(20);
        }
    }

    var run = await http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}?wait=2m");
    if (run.GetProperty("run").GetProperty("status").GetString() != "Succeeded" || run.GetProperty("steps").GetArrayLength() == 0)
    {
        throw new InvalidOperationException($"run {runId} for alert {alertId} did not succeed: {run}");
    }

    var queuedAt = run.GetProperty("run").GetProperty("queuedAt").GetDateTimeOffset();
    var startedAt = run.GetProperty("run").GetProperty("startedAt").GetDateTimeOffset();
    var stepAt = run.GetProperty("steps")[0].GetProperty("startedAt").GetDateTimeOffset();
    return [.. new[] { stepAt - sent, receivedAt - sent, queuedAt - receivedAt, startedAt - queuedAt, stepAt - startedAt }.Select(t => t.TotalMilliseconds)];
}

static async Task<(int Status, int Accepted, int Duplicates, JsonElement Answer)> PostAsync(HttpClient http, byte[] body)
{
    var (status, answer) = await PostForAnswerAsync(http, body);
    return status == 202
        ? (status, answer.GetProperty("accepted").GetInt32(), answer.GetProperty("duplicates").GetInt32(), answer)
        : (status, 0, 0, answer);
}

static async Task<(int Status, JsonElement Body)> PostForAnswerAsync(HttpClient http, byte[] body)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/alertmanager") { Content = new ByteArrayContent(body) };
    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    try
    {
        using var response = await http.SendAsync(request);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        using var document = bytes.Length == 0 ? null : JsonDocument.Parse(bytes);
        return ((int)response.StatusCode, document?.RootElement.Clone() ?? default);
    }
    catch (HttpRequestException ex)
    {
        return (ex.StatusCode is { } code ? (int)code : 0, default);
    }
}

// Waits until no alert is left pending or being matched; answers how many were matched meanwhile and how long it took.
// The frequent check is an EXISTS that stops at the first row; counting a large backlog often would load the server.
static async Task<(long Matched, double Seconds)> DrainAsync(string database, string after)
{
    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    await using var count = new NpgsqlCommand("SELECT count(*) FROM runbook_alerts WHERE outcome IN ('Pending', 'Matching')", connection);
    await using var any = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM runbook_alerts WHERE outcome IN ('Pending', 'Matching'))", connection);
    var clock = Stopwatch.StartNew();
    var first = (long)(await count.ExecuteScalarAsync())!;
    var lastNote = TimeSpan.Zero;
    while ((bool)(await any.ExecuteScalarAsync())!)
    {
        if (clock.Elapsed > TimeSpan.FromMinutes(20))
        {
            throw new TimeoutException($"alerts were still unmatched 20 minutes after {after}");
        }

        if (clock.Elapsed - lastNote > TimeSpan.FromSeconds(30))
        {
            lastNote = clock.Elapsed;
            Console.Error.WriteLine($"draining after {after}: {(long)(await count.ExecuteScalarAsync())!} alerts left to match");
        }

        await Task.Delay(250);
    }

    return (first, clock.Elapsed.TotalSeconds);
}

// Waits for every run the storm's matching alerts started to start, then answers each one's time from the alert's
// receipt to the run being queued and to its execution starting.
static async Task<(List<double> Queued, List<double> Started, string Runs)> StormRunsAsync(string database, DateTimeOffset from, int expected)
{
    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    var since = from.ToUnixTimeMilliseconds();
    await using var waiting = new NpgsqlCommand(
        $"SELECT count(*) FILTER (WHERE r.started_at IS NOT NULL), count(r.id) FROM runbook_alerts a LEFT JOIN runbook_runs r ON r.alert_id = a.id WHERE a.name = '{Fire}' AND a.received_at >= {since}", connection);
    var clock = Stopwatch.StartNew();
    while (true)
    {
        await using var reader = await waiting.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (startedCount, runCount) = (reader.GetInt64(0), reader.GetInt64(1));
        if (startedCount >= expected)
        {
            break;
        }

        if (clock.Elapsed > TimeSpan.FromMinutes(10))
        {
            throw new TimeoutException($"only {startedCount} of {expected} storm runs had started ({runCount} queued) after 10 minutes");
        }

        await reader.DisposeAsync();
        await Task.Delay(250);
    }

    await using var times = new NpgsqlCommand(
        $"SELECT r.queued_at - a.received_at, r.started_at - a.received_at FROM runbook_alerts a JOIN runbook_runs r ON r.alert_id = a.id WHERE a.name = '{Fire}' AND a.received_at >= {since}", connection);
    await using var rows = await times.ExecuteReaderAsync();
    var (queued, started) = (new List<double>(), new List<double>());
    while (await rows.ReadAsync())
    {
        queued.Add(rows.GetInt64(0));
        started.Add(rows.GetInt64(1));
    }

    queued.Sort();
    started.Sort();
    return (queued, started, $"{started.Count} runs for {expected} matching alerts, the last started {F(clock.Elapsed.TotalSeconds)} s after the storm was fully matched");

    static string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
}

static async Task<Dictionary<string, long>> OutcomesAsync(string database)
{
    await using var connection = new NpgsqlConnection(database);
    await connection.OpenAsync();
    await using var query = new NpgsqlCommand("SELECT outcome, count(*) FROM runbook_alerts GROUP BY outcome ORDER BY outcome", connection);
    await using var reader = await query.ExecuteReaderAsync();
    var outcomes = new Dictionary<string, long>();
    while (await reader.ReadAsync())
    {
        outcomes[reader.GetString(0)] = reader.GetInt64(1);
    }

    return outcomes;
}

static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

static string Percentiles(List<double> sorted)
{
    double P(double q) => sorted[(int)Math.Ceiling(sorted.Count * q) - 1];
    return $"{P(0.5).ToString("0.0", CultureInfo.InvariantCulture)} / {P(0.99).ToString("0.0", CultureInfo.InvariantCulture)} / {sorted[^1].ToString("0.0", CultureInfo.InvariantCulture)}";
}
