using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using RunbookEngine.Benchmarks.Soak;
using RunbookEngine.TestSupport;

// The soak for docs/benchmarks.md: runs triggered at a steady rate through a non-executing front node and executed by
// two nodes, one of which is killed with -9 (and started again) or stalled with SIGSTOP every --disrupt-every seconds,
// on one PostgreSQL (started here, fsync on). It then checks, from the store and from the files the runbook writes
// outside the engine, that no run was lost, none ran twice at once, no completed step ran again and none is left
// unfinished; it exits 1 if one did. `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Soak [-- --runs N]
// [--disrupt-every SECONDS] [--rate RUNS_PER_SECOND] [--max-waiting N] [--keep]`.
const int Senders = 8;
const int MaxConcurrentRuns = 10;
const int MinDisruptions = 4;
var stall = TimeSpan.FromSeconds(8);
var finalWait = TimeSpan.FromMinutes(10);
var runs = (int)Option("--runs", 20_000);
var disruptEvery = TimeSpan.FromSeconds(Option("--disrupt-every", 60));
// Slow enough by default that even a small soak lasts through MinDisruptions disruptions.
var rate = Option("--rate", Math.Min(40, runs / ((MinDisruptions + 0.5) * disruptEvery.TotalSeconds)));
// Triggering pauses while this many runs are unfinished: above what the two nodes execute, runs would only queue, and
// the soak would measure a backlog draining instead of runs crossing disruptions.
var maxWaiting = (int)Option("--max-waiting", 100);
var keep = args.Contains("--keep");

string F(double v) => v.ToString("0.0", CultureInfo.InvariantCulture);
string N(long v) => v.ToString("N0", CultureInfo.InvariantCulture);

var server = await PostgresServer.StartDurableAsync();
var database = await server.CreateDatabaseAsync("bench_soak");
var work = Directory.CreateTempSubdirectory("runbook-bench-soak-").FullName;
foreach (var folder in new[] { "runbooks", "runs", "live", "logs" })
{
    Directory.CreateDirectory(Path.Combine(work, folder));
}

File.WriteAllText(Path.Combine(work, "runbooks", SoakRunbook.Name + ".csx"), SoakRunbook.Source);
Console.Error.WriteLine($"soak: {N(runs)} runs at up to {F(rate)}/s (at most {maxWaiting} unfinished), a disruption every {disruptEvery.TotalSeconds:0} s; work folder {work}");

var nodes = new Nodes(work, database, MaxConcurrentRuns);
var failed = true;
try
{
    await nodes.StartAllAsync();
    using var front = new HttpClient { BaseAddress = nodes[Nodes.Front].Host.Address, Timeout = TimeSpan.FromSeconds(30) };

    var clock = Stopwatch.StartNew();
    var startedAt = TimeProvider.System.GetUtcNow();
    var unfinished = 0;
    var succeeded = 0;
    var loads = new List<double>();
    var ids = new string?[runs];
    var next = -1;
    var postRetries = 0;
    var postFailures = new List<string>();
    using var monitorStop = new CancellationTokenSource();
    var monitor = MonitorAsync(monitorStop.Token);
    using var disruptorStop = new CancellationTokenSource();
    var disruptions = new List<(int N, TimeSpan At, string Kind, string Node, string Process, string Detail)>();
    var disruptor = DisruptAsync(disruptorStop.Token);
    await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => SendAsync()));
    var triggerSeconds = clock.Elapsed.TotalSeconds;

    // A disruption under way is finished (the killed node started again, the stalled one resumed); none is begun.
    await disruptorStop.CancelAsync();
    await disruptor;
    // Counted afresh rather than read from the monitor, whose last count may predate the last runs triggered.
    var waitStarted = clock.Elapsed;
    while (await CountUnfinishedAsync() > 0 && clock.Elapsed - waitStarted < finalWait)
    {
        await Task.Delay(1000);
    }

    await monitorStop.CancelAsync();
    await monitor;
    var totalSeconds = clock.Elapsed.TotalSeconds;
    var endLoad = LoadAverage();

    var triggered = ids.OfType<string>().ToList();
    var verdict = await Verdict.JudgeAsync(database, work, triggered, nodes.Killed);
    var ended = verdict.Runs.Values.Where(r => r.FinishedAt is not null).ToList();
    var durations = ended.Select(r => (r.FinishedAt!.Value - r.QueuedAt) / 1000.0).Order().ToList();
    var span = ended.Count == 0 ? double.NaN : (ended.Max(r => r.FinishedAt!.Value) - verdict.Runs.Values.Min(r => r.QueuedAt)) / 1000.0;
    var hostLines = nodes.All.SelectMany(i => i.Host.Log.Split('\n')).ToList();
    int Logged(string text) => hostLines.Count(line => line.Contains(text, StringComparison.Ordinal));
    var firstStarts = ended.Select(r => ((r.StartedAt ?? r.QueuedAt) - r.QueuedAt) / 1000.0).Order().ToList();

    static double P(List<double> sorted, double q) => sorted.Count == 0 ? double.NaN : sorted[(int)Math.Ceiling(sorted.Count * q) - 1];
    var kills = disruptions.Count(d => d.Kind == "kill -9");
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL 15 with fsync on, started by the benchmark; "
        + $"front node + 2 executing nodes, {MaxConcurrentRuns} runs at once per node; {Senders} senders at up to {F(rate)} runs/s with at most {maxWaiting} unfinished");
    Console.WriteLine($"started {startedAt:yyyy-MM-dd HH:mm:ss} UTC; 1-minute load average: mean {F(loads.DefaultIfEmpty(double.NaN).Average())}, max {F(loads.DefaultIfEmpty(double.NaN).Max())}, at the end {F(endLoad)}");
    Console.WriteLine();
    Console.WriteLine("| figure | value |");
    Console.WriteLine("|---|---|");
    Console.WriteLine($"| runs triggered (accepted by the API) | {N(triggered.Count)} of {N(runs)} ({postRetries} POSTs retried, {postFailures.Count} given up) |");
    Console.WriteLine($"| **runs lost** (accepted, then missing from the store, ended other than Succeeded, or Succeeded without all 3 steps journaled) | **{verdict.Lost.Count}** |");
    Console.WriteLine($"| **runs executed twice at once** (a step entered while a live process held the run's lock; overlaps.log lines) | **{verdict.Overlaps.Count}** |");
    Console.WriteLine($"| **completed steps repeated** (a step's code ended, was journaled, and ran again) | **{verdict.Repeated.Count}** |");
    Console.WriteLine($"| **runs unfinished** {finalWait.TotalMinutes:0} min after the last trigger | **{verdict.Unfinished.Count}** |");
    Console.WriteLine($"| succeeded runs whose step log does not end every step | {verdict.Incomplete.Count} |");
    Console.WriteLine($"| steps cut short in a process that was not killed, then run again | {verdict.CutShort.Count} |");
    Console.WriteLine($"| in-flight steps re-run after a kill -9 (started, never ended, run again) | {N(verdict.InFlightReruns)} |");
    Console.WriteLine($"| steps re-run after a kill -9 between their end and its journal entry | {verdict.UnjournaledReruns} |");
    Console.WriteLine($"| step locks left by a killed process and cleared by the recovering execution | {N(verdict.StaleLocks)} |");
    Console.WriteLine($"| claims lost by a live execution (hosts' \"taken over by another node\" log lines) | {Logged("was taken over by another node")} |");
    Console.WriteLine($"| watchdog dispatches: of a run under a dead claim / of a queued run that had not started | {N(Logged("runs under the claim of a node that stopped renewing it"))} / {N(Logged("was queued but had not started"))} |");
    Console.WriteLine($"| disruptions | {disruptions.Count}: {kills} kill -9 (restarted at once), {disruptions.Count - kills} SIGSTOP for {stall.TotalSeconds:0} s, one every {disruptEvery.TotalSeconds:0} s |");
    Console.WriteLine($"| takeovers (runs with attempt > 1) | {N(verdict.Takeovers)} (highest attempt {verdict.MaxAttempt}) |");
    Console.WriteLine($"| runs in the store not triggered by the benchmark (a retried POST that had got through) | {verdict.NotTriggeredByUs} |");
    Console.WriteLine($"| total time (first trigger to the end of the wait) | {F(totalSeconds)} s (triggering {F(triggerSeconds)} s) |");
    Console.WriteLine($"| runs/s (runs ended ÷ first queued to last finished) | {F(ended.Count / span)} ({N(ended.Count)} runs in {F(span)} s) |");
    Console.WriteLine($"| queued → finished (s): p50 / p99 / max | {F(P(durations, 0.5))} / {F(P(durations, 0.99))} / {F(durations.LastOrDefault(double.NaN))} |");
    Console.WriteLine($"| queued → first started (s): p50 / p99 / max; runs first started over 20 s after they were queued | {F(P(firstStarts, 0.5))} / {F(P(firstStarts, 0.99))} / {F(firstStarts.LastOrDefault(double.NaN))}; {firstStarts.Count(s => s > 20)} |");
    Console.WriteLine();
    Console.WriteLine("| # | at (s) | disruption | node | process | detail |");
    Console.WriteLine("|---|---|---|---|---|---|");
    foreach (var d in disruptions)
    {
        Console.WriteLine($"| {d.N} | {F(d.At.TotalSeconds)} | {d.Kind} | {d.Node} | {d.Process} | {d.Detail} |");
    }

    // Where the slowest runs spent their time, against the disruptions, to tell a backlog from a recovery.
    Console.WriteLine("\nthe slowest runs:");
    foreach (var run in ended.OrderByDescending(r => r.FinishedAt!.Value - r.QueuedAt).Take(5))
    {
        var queued = (run.QueuedAt - startedAt.ToUnixTimeMilliseconds()) / 1000.0;
        var steps = Verdict.ReadLog(work, run.Id);
        Console.WriteLine($"- {run.Id}: queued at {F(queued)} s, first started {F(((run.StartedAt ?? run.QueuedAt) - run.QueuedAt) / 1000.0)} s later, "
            + $"finished {F((run.FinishedAt!.Value - run.QueuedAt) / 1000.0)} s after it was queued; attempt {run.Attempt}, node {run.Node}; "
            + $"steps: {string.Join(", ", steps.Select(l => $"{l.Kind} {l.Step} +{F((l.At - run.QueuedAt) / 1000.0)} s in {Who(l.Process)}"))}");
    }

    Report("runs lost", verdict.Lost);
    Report("runs executed twice at once", verdict.Overlaps);
    Report("completed steps repeated", verdict.Repeated);
    Report("runs unfinished", verdict.Unfinished);
    Report("succeeded runs whose step log does not end every step", verdict.Incomplete);
    Report("steps cut short without a kill", verdict.CutShort);
    failed = verdict.Lost.Count + verdict.Overlaps.Count + verdict.Repeated.Count + verdict.Unfinished.Count + verdict.Incomplete.Count > 0;
    if (failed)
    {
        Console.WriteLine($"\nFAILED: the work folder {work} keeps every run's step log (runs/), the locks (live/), overlaps.log, stale.log and every host's log (logs/<node>-<life>.log).");
    }

    return failed ? 1 : 0;

    void Report(string what, List<string> found)
    {
        if (found.Count == 0)
        {
            return;
        }

        Console.WriteLine($"\n{what} ({found.Count}), the first 10:");
        foreach (var line in found.Take(10))
        {
            var runId = line.Split(' ', ':')[0];
            Console.WriteLine($"- {line}");
            if (verdict.Runs.TryGetValue(runId, out var run))
            {
                Console.WriteLine($"  store: {run.Status}, attempt {run.Attempt}, node {run.Node}, queued {run.QueuedAt}, finished {run.FinishedAt}; journal: "
                    + string.Join(", ", verdict.Journal.GetValueOrDefault(runId, []).Select(s => $"{s.Sequence} {s.Name} {s.Status}")));
                foreach (var step in Verdict.ReadLog(work, runId))
                {
                    Console.WriteLine($"  log: {step} ({Who(step.Process)})");
                }
            }
        }
    }

    string Who(string process) =>
        nodes.All.FirstOrDefault(i => i.Process == process) is { } i ? $"{i.Node} process {i.Life}{(nodes.Killed.Contains(process) ? ", killed later" : "")}" : "unknown process";

    async Task SendAsync()
    {
        while (Interlocked.Increment(ref next) is var i && i < runs)
        {
            var wait = TimeSpan.FromSeconds(i / rate) - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            while (Volatile.Read(ref unfinished) >= maxWaiting)
            {
                await Task.Delay(50);
            }

            Interlocked.Increment(ref unfinished);
            ids[i] = await TriggerAsync(i);
        }
    }

    async Task<string?> TriggerAsync(int i)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await front.PostAsJsonAsync($"/api/runbooks/{SoakRunbook.Name}/runs", new { parameters = new { work } });
                if (response.StatusCode is >= HttpStatusCode.BadRequest and < HttpStatusCode.InternalServerError)
                {
                    throw new InvalidOperationException($"the API refused run {i}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }

                response.EnsureSuccessStatusCode();
                return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // The front node is never disrupted, but the machine is: a slow or failed answer is asked again.
                if (attempt == 5)
                {
                    lock (postFailures)
                    {
                        postFailures.Add($"run {i}: {ex.Message}");
                    }

                    return null;
                }

                Interlocked.Increment(ref postRetries);
                await Task.Delay(TimeSpan.FromSeconds(attempt));
            }
        }
    }

    async Task DisruptAsync(CancellationToken stop)
    {
        for (var n = 1; ; n++)
        {
            // On a fixed schedule from the start, so a stall or a slow restart does not push the later disruptions back.
            try
            {
                var due = (disruptEvery * n) - clock.Elapsed;
                await Task.Delay(due > TimeSpan.Zero ? due : TimeSpan.Zero, stop);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            // kill a, stall b, kill b, stall a, ...: each node is killed and stalled in turn.
            var node = Nodes.Executing[(n / 2) % 2];
            var process = nodes[node].Process;
            var at = clock.Elapsed;
            string kind, detail;
            if (n % 2 == 1)
            {
                kind = "kill -9";
                var restart = await nodes.KillAndRestartAsync(node);
                detail = $"started again in {F(restart.TotalSeconds)} s as {nodes[node].Process}";
            }
            else
            {
                kind = "SIGSTOP";
                await nodes.StallAsync(node, stall);
                detail = $"SIGCONT after {stall.TotalSeconds:0} s";
            }

            lock (disruptions)
            {
                disruptions.Add((n, at, kind, node, process, detail));
            }

            Console.Error.WriteLine($"{F(at.TotalSeconds)} s: disruption {n}, {kind} of {node} ({process}); {detail}");
        }
    }

    async Task MonitorAsync(CancellationToken stop)
    {
        var lastReport = TimeSpan.Zero;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(database);
                await connection.OpenAsync(stop);
                await using var command = new NpgsqlCommand(
                    "SELECT count(*) FILTER (WHERE status IN ('Queued', 'Running', 'WaitingForHuman')), count(*) FILTER (WHERE status = 'Succeeded') FROM runbook_runs",
                    connection);
                await using (var reader = await command.ExecuteReaderAsync(stop))
                {
                    // The senders count up between two reads, so they overshoot the bound by at most half a second's runs.
                    await reader.ReadAsync(stop);
                    Volatile.Write(ref unfinished, (int)reader.GetInt64(0));
                    Volatile.Write(ref succeeded, (int)reader.GetInt64(1));
                }

                if (clock.Elapsed - lastReport >= TimeSpan.FromSeconds(10))
                {
                    lastReport = clock.Elapsed;
                    loads.Add(LoadAverage());
                    Console.Error.WriteLine($"{F(clock.Elapsed.TotalSeconds)} s: {N(Math.Min(runs, Volatile.Read(ref next) + 1))} triggered, {N(Volatile.Read(ref succeeded))} succeeded, {Volatile.Read(ref unfinished)} unfinished; load {F(loads[^1])}");
                }

                await Task.Delay(500, stop);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (NpgsqlException ex)
            {
                // Only the pacing and the progress lines depend on it: the verdict reads the store afresh.
                Console.Error.WriteLine($"the monitor could not read the store: {ex.Message}");
                await Task.Delay(1000, CancellationToken.None);
            }
        }
    }

    async Task<long> CountUnfinishedAsync()
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM runbook_runs WHERE status IN ('Queued', 'Running', 'WaitingForHuman')", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
finally
{
    await nodes.DisposeAsync();
    foreach (var incarnation in nodes.All)
    {
        File.WriteAllText(Path.Combine(work, "logs", $"{incarnation.Node}-{incarnation.Life}.log"), incarnation.Host.Log);
    }

    NpgsqlConnection.ClearAllPools();
    if (server.DataDirectory is not null)
    {
        await server.StopAsync();
    }

    if (!failed && !keep)
    {
        Directory.Delete(work, recursive: true);
    }
}

double Option(string name, double fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? double.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static double LoadAverage() => double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
