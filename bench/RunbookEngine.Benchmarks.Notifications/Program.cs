using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using RunbookEngine.TestSupport;

// "Receiver down" for docs/benchmarks.md: run latency, trigger to terminal, on three hosts side by side in one process
// run, each telling a signed webhook of every run: one whose receiver is up, one whose receiver refuses connections, and
// one whose receiver accepts the connection and never answers (each delivery waits out the 10 s timeout). The receivers
// stay that way for the whole measurement. Rounds alternate the hosts so drift in the machine's load falls on all three.
// Then the refusing receiver comes up on its port, and the benchmark waits for every delivery it missed to arrive,
// counting repeats. `dotnet run -c Release --project bench/RunbookEngine.Benchmarks.Notifications [-- --rounds N --per-round M]`.
const string Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const string Noop3 = """
    // ---
    // description: Three journaled no-op steps
    // ---
    await Step("one", ct => Task.CompletedTask);
    await Step("two", ct => Task.CompletedTask);
    await Step("three", ct => Task.CompletedTask);
    """;
var rounds = Argument("--rounds", 12);
// At most 1,000 deliveries per host with the warm-up, so one page of the API counts them all.
var perRound = Argument("--per-round", 80);
long outageFrom = 0;

await using var up = WebhookReceiver.Start();
// A socket bound to the port but never listening holds it for the whole outage (nothing else can take it, and a connect
// is refused), rather than a port found free now and bound a minute later, by when another process may have taken it.
var refusingHolder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
refusingHolder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
var refusingPort = ((IPEndPoint)refusingHolder.LocalEndPoint!).Port;
var refusing = new Uri($"http://127.0.0.1:{refusingPort}/hooks/runbooks");
using var hanging = new TcpListener(IPAddress.Loopback, 0);
hanging.Start();
var held = new List<Socket>();
_ = Task.Run(async () =>
{
    // Accepts and never reads or answers: a receiver that hangs.
    while (true)
    {
        Socket socket;
        try
        {
            socket = await hanging.AcceptSocketAsync();
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return;
        }

        lock (held)
        {
            held.Add(socket);
        }
    }
});

var scenarios = new List<Scenario>
{
    new("receiver up", new Uri(up.Address, "hooks/runbooks")),
    new("receiver refusing connections", refusing),
    new("receiver hanging (accepts, never answers)", new Uri($"http://127.0.0.1:{((IPEndPoint)hanging.LocalEndpoint).Port}/hooks/runbooks")),
};
try
{
    foreach (var scenario in scenarios)
    {
        var folder = Directory.CreateTempSubdirectory("runbook-bench-notify-").FullName;
        Directory.CreateDirectory(Path.Combine(folder, "runbooks"));
        File.WriteAllText(Path.Combine(folder, "runbooks", "noop3.csx"), Noop3);
        scenario.Host = await HostProcess.StartAsync(folder, new Dictionary<string, string>
        {
            ["RUNBOOKENGINE_CACHE"] = Path.Combine(folder, "cache"),
            ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Error",
            ["RunbookEngine__Notifications__Channels__hook__Kind"] = "webhook",
            ["RunbookEngine__Notifications__Channels__hook__Url"] = scenario.Receiver.ToString(),
            ["RunbookEngine__Notifications__Channels__hook__Secret"] = Secret,
            ["RunbookEngine__Notifications__Defaults__succeeded__0"] = "hook",
        });
        scenario.Http = new HttpClient { BaseAddress = scenario.Host.Address, Timeout = TimeSpan.FromMinutes(5) };
        if (scenario.Receiver == refusing)
        {
            outageFrom = TimeProvider.System.GetTimestamp();
        }

        for (var i = 0; i < 30; i++)
        {
            await EndedAsync(scenario.Http, await TriggerAsync(scenario.Http));
        }
    }

    var started = TimeProvider.System.GetTimestamp();
    for (var round = 0; round < rounds; round++)
    {
        foreach (var scenario in scenarios)
        {
            for (var i = 0; i < perRound; i++)
            {
                var sent = TimeProvider.System.GetUtcNow();
                var run = await EndedAsync(scenario.Http, await TriggerAsync(scenario.Http));
                if (run.GetProperty("run").GetProperty("status").GetString() != "Succeeded")
                {
                    throw new InvalidOperationException($"{scenario.Name}: a run ended {run.GetProperty("run").GetProperty("status")}");
                }

                scenario.Latencies.Add((run.GetProperty("run").GetProperty("finishedAt").GetDateTimeOffset() - sent).TotalMilliseconds);
            }
        }
    }

    var minutes = TimeProvider.System.GetElapsedTime(started).TotalMinutes;

    // The issue's case is a receiver down for a minute: the runs above take less, so the outage is held to one.
    while (TimeProvider.System.GetElapsedTime(outageFrom) < TimeSpan.FromMinutes(1))
    {
        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    var outage = await StatesAsync(scenarios[1].Http);

    // The receiver that refused comes back: every delivery must arrive, each once, by its own backoff (no retry by hand).
    var back = new System.Collections.Concurrent.ConcurrentDictionary<string, int>(StringComparer.Ordinal);
    using var listener = new HttpListener();
    refusingHolder.Dispose();
    listener.Prefixes.Add($"http://127.0.0.1:{refusingPort}/");
    listener.Start();
    var backAt = TimeProvider.System.GetTimestamp();
    var outageSeconds = TimeProvider.System.GetElapsedTime(outageFrom, backAt).TotalSeconds;
    _ = Task.Run(async () =>
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            back.AddOrUpdate(context.Request.Headers["webhook-id"] ?? "", 1, (_, n) => n + 1);
            context.Response.StatusCode = 200;
            context.Response.Close();
        }
    });
    var expected = outage.Total;
    double? drained = null;
    while (TimeProvider.System.GetElapsedTime(backAt) < TimeSpan.FromMinutes(12))
    {
        var now = await StatesAsync(scenarios[1].Http);
        if (now.Delivered == expected)
        {
            drained = TimeProvider.System.GetElapsedTime(backAt).TotalSeconds;
            break;
        }

        await Task.Delay(TimeSpan.FromSeconds(1));
    }

    listener.Stop();
    Console.Error.WriteLine($"receiver back: {back.Count} distinct deliveries, {back.Values.Sum()} requests, drained in {drained?.ToString("0", CultureInfo.InvariantCulture) ?? "more than 720"} s");
    Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; three hosts on SQLite at once, "
        + $"{rounds} rounds of {perRound} runs each, one at a time, after 30 warm-up runs; {minutes:0.0} minutes measured; default notification settings");
    Console.WriteLine("| webhook receiver | trigger → terminal p50 / p95 / p99 / max (ms), n | deliveries at the end: delivered / failing or abandoned / pending | receiver took |");
    Console.WriteLine("|---|---|---|---|");
    foreach (var scenario in scenarios)
    {
        var states = scenario == scenarios[1] ? outage : await StatesAsync(scenario.Http);
        var took = scenario.Name == "receiver up" ? up.Received.Count.ToString(CultureInfo.InvariantCulture) : scenario.Name.Contains("hanging", StringComparison.Ordinal) ? $"{held.Count} connections, no answer" : "no connection";
        scenario.Latencies.Sort();
        Console.WriteLine($"| {scenario.Name} | {Percentiles(scenario.Latencies)}, {scenario.Latencies.Count} | "
            + $"{states.Delivered} / {states.Failing} / {states.Pending} | {took} |");
    }

    Console.WriteLine($"The refusing receiver was down {outageSeconds:0} s from its host's first run; then it came up: {back.Count} distinct deliveries of {expected} arrived ({back.Values.Sum()} requests, {back.Values.Count(n => n > 1)} repeated), "
        + $"all delivered {drained?.ToString("0", CultureInfo.InvariantCulture) ?? "not within 720"} s after it came back, by their own backoff.");
}
finally
{
    foreach (var scenario in scenarios)
    {
        scenario.Http?.Dispose();
        if (scenario.Host is not null)
        {
            await scenario.Host.DisposeAsync();
        }
    }

    hanging.Stop();
    lock (held)
    {
        held.ForEach(s => s.Dispose());
    }
}

return 0;

int Argument(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 ? int.Parse(args[at + 1], CultureInfo.InvariantCulture) : fallback;
}

static async Task<string> TriggerAsync(HttpClient http)
{
    using var response = await http.PostAsJsonAsync("/api/runbooks/noop3/runs", new { parameters = new { } });
    response.EnsureSuccessStatusCode();
    return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetString()!;
}

static async Task<JsonElement> EndedAsync(HttpClient http, string id) => await http.GetFromJsonAsync<JsonElement>($"/api/runs/{id}?wait=2m");

// Every delivery row of a host, counted by state (a host's outbox, not the last page of it).
static async Task<(int Total, int Delivered, int Failing, int Pending)> StatesAsync(HttpClient http)
{
    var counts = new Dictionary<string, int>(StringComparer.Ordinal);
    foreach (var state in new[] { "delivered", "failing", "pending" })
    {
        var rows = await http.GetFromJsonAsync<JsonElement>($"/api/notifications?state={state}&limit=1000");
        counts[state] = rows.GetArrayLength();
    }

    return (counts.Values.Sum(), counts["delivered"], counts["failing"], counts["pending"]);
}

static string Percentiles(List<double> sorted)
{
    string P(double q) => sorted[(int)Math.Ceiling(sorted.Count * q) - 1].ToString("0.0", CultureInfo.InvariantCulture);
    return $"{P(0.5)} / {P(0.95)} / {P(0.99)} / {sorted[^1].ToString("0.0", CultureInfo.InvariantCulture)}";
}

/// <summary>One host and the receiver its webhook channel points at.</summary>
internal sealed class Scenario(string name, Uri receiver)
{
    public string Name { get; } = name;

    public Uri Receiver { get; } = receiver;

    public HostProcess? Host { get; set; }

    public HttpClient Http { get; set; } = null!;

    public List<double> Latencies { get; } = [];
}
