using System.Diagnostics;
using System.Globalization;
using System.Text;
using Npgsql;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Incidents;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Benchmarks.Dashboard;

/// <summary>
/// The incident page of one incident with 5,000 alerts and 200 runs (10 steps each) on PostgreSQL (`-- --incident`):
/// the alerts go in through the store's own ingest, 50 per delivery with one Alertmanager groupKey, so grouping puts them
/// in one incident as it would in production; the runs, their decisions and steps are written with SQL. One real host
/// process serves the page; each request reports its server time (Server-Timing: render;dur=).
/// </summary>
internal static class IncidentBench
{
    private const int Alerts = 5_000;
    private const int Runs = 200;
    private const int StepsPerRun = 10;
    private const int Samples = 50;
    private const int WarmUp = 5;
    private const double BudgetMs = 200;

    public static async Task<int> MeasureAsync(PostgresServer server)
    {
        var database = await server.CreateDatabaseAsync("bench_incident");
        var seeding = Stopwatch.StartNew();
        string incidentId;
        await using (var store = SqlRunStore.Postgres(database, TimeProvider.System))
        {
            await store.MigrateAsync(CancellationToken.None);
            incidentId = await SeedAsync(store, database);
        }

        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"seeded incident {incidentId} in {seeding.Elapsed.TotalSeconds:0.0} s"));
        var work = Directory.CreateTempSubdirectory("runbook-bench-incident-").FullName;
        Directory.CreateDirectory(Path.Combine(work, "runbooks"));
        await using var node = await HostProcess.StartAsync(work, new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = database,
            ["RunbookEngine__NodeId"] = "bench-incident",
            ["RUNBOOKENGINE_CACHE"] = Path.Combine(work, "cache"),
            ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
        });
        using var http = new HttpClient { BaseAddress = node.Address, Timeout = TimeSpan.FromMinutes(2) };
        var page = new List<double>();
        var api = new List<double>();
        var shown = 0;
        for (var i = 0; i < WarmUp + Samples; i++)
        {
            var (pageMs, body) = await GetAsync(http, $"/incidents/{incidentId}");
            var (apiMs, _) = await GetAsync(http, $"/api/incidents/{incidentId}");
            shown = body.Split("<li class=\"k-").Length - 1;
            if (i >= WarmUp)
            {
                page.Add(pageMs);
                api.Add(apiMs);
            }
        }

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var version = new NpgsqlCommand("SHOW server_version", connection);
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {Environment.OSVersion}, .NET {Environment.Version}; PostgreSQL {await version.ExecuteScalarAsync()}; one host process");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"incident: {Alerts:N0} alerts, {Runs} runs of {StepsPerRun} steps; page draws {shown} timeline events; {Samples} requests each after {WarmUp} warm-up"));
        Console.WriteLine("| URL | server time p50 / p95 / max (ms) | ≤ 200 ms |");
        Console.WriteLine("|---|---|---|");
        Console.WriteLine($"| /incidents/{{id}} (dashboard) | {Percentiles(page)} | {(page.Max() <= BudgetMs ? "yes" : "**no**")} |");
        Console.WriteLine($"| /api/incidents/{{id}} (whole timeline, Server-Timing of the page only: wall) | {Percentiles(api)} | – |");
        return page.Order().ElementAt(Samples / 2) <= BudgetMs ? 0 : 1;
    }

    private static async Task<string> SeedAsync(SqlRunStore store, string database)
    {
        var options = new IncidentOptions();
        var start = TimeProvider.System.GetUtcNow().AddHours(-2);
        var alertIds = new List<string>(Alerts);
        for (var delivery = 0; delivery < Alerts / 50; delivery++)
        {
            var parsed = Enumerable.Range(delivery * 50, 50).Select(i =>
            {
                var labels = new Dictionary<string, string> { ["alertname"] = "CheckoutDown", ["service"] = "checkout", ["instance"] = $"web-{i}:9100" };
                var alert = new RunbookAlert("alertmanager", "CheckoutDown", AlertStatus.Firing, "critical", labels, new Dictionary<string, string>(), start.AddMilliseconds(i), null, $"fp-{i}");
                return new ParsedAlert(alert, $"alertmanager:fp-{i}", "{}:{service=\"checkout\"}");
            }).ToList();
            var stored = await store.IngestAsync(new WebhookDelivery("alertmanager", null, "{}", parsed, Incidents: [.. parsed.Select(p => IncidentGrouping.For(p, options))]), CancellationToken.None);
            alertIds.AddRange(stored.Select(s => s.Id));
        }

        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        var t0 = start.ToUnixTimeMilliseconds();
        for (var r = 0; r < Runs; r++)
        {
            var runId = $"bench-run-{r:D4}";
            var alertId = alertIds[r * (Alerts / Runs)];
            var queued = t0 + 60_000 + (r * 1_000);
            var sql = new StringBuilder();
            sql.Append(CultureInfo.InvariantCulture, $"""
                INSERT INTO runbook_runs (id, runbook, content_hash, trigger_kind, triggered_by, parameters, status, attempt, queued_at, started_at, finished_at, alert_id, manual_minutes)
                VALUES ('{runId}', 'restart-checkout', 'h', 'Alert', 'alertmanager:CheckoutDown', '{"{}"}', 'Succeeded', 1, {queued}, {queued + 100}, {queued + 100 + (StepsPerRun * 500)}, '{alertId}', 10);
                INSERT INTO runbook_alert_decisions (alert_id, runbook, decision, run_id, reason, decided_at) VALUES ('{alertId}', 'restart-checkout', 'Started', '{runId}', NULL, {queued});
                INSERT INTO runbook_steps (run_id, sequence, name, kind, status, started_at, finished_at, attempts, output, actor, idempotent) VALUES
                """);
            for (var s = 1; s <= StepsPerRun; s++)
            {
                var at = queued + 100 + ((s - 1) * 500);
                sql.Append(CultureInfo.InvariantCulture, $"{(s == 1 ? "" : ",")}('{runId}', {s}, 'step {s}', 'Automated', 'Succeeded', {at}, {at + 500}, 1, 'checked web-{r}\nstep {s} done on web-{r}', 'runbook', 1)");
            }

            sql.Append(';');
            await using var command = new NpgsqlCommand(sql.ToString(), connection);
            await command.ExecuteNonQueryAsync();
        }

        await using var analyze = new NpgsqlCommand("ANALYZE", connection);
        await analyze.ExecuteNonQueryAsync();
        var incidents = await store.ListIncidentsAsync(new IncidentQuery(), CancellationToken.None);
        if (incidents.Count != 1 || incidents[0].Alerts != Alerts)
        {
            throw new InvalidOperationException($"grouping made {incidents.Count} incidents ({string.Join(", ", incidents.Select(i => i.Alerts))} alerts), not one of {Alerts}");
        }

        return incidents[0].Id;
    }

    private static async Task<(double RenderMs, string Body)> GetAsync(HttpClient http, string url)
    {
        var clock = Stopwatch.StartNew();
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative));
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {body[..Math.Min(body.Length, 500)]}");
        }

        // The page reports its own server time; the API does not, so it is timed from the client.
        return response.Headers.TryGetValues("Server-Timing", out var values)
            ? (double.Parse(values.First().Split("dur=", 2)[1].Split(';', ',')[0], CultureInfo.InvariantCulture), body)
            : (clock.Elapsed.TotalMilliseconds, body);
    }

    private static string Percentiles(List<double> samples)
    {
        var sorted = samples.Order().ToList();
        return string.Create(CultureInfo.InvariantCulture, $"{sorted[sorted.Count / 2]:0.0} / {sorted[(int)Math.Ceiling(sorted.Count * 0.95) - 1]:0.0} / {sorted[^1]:0.0}");
    }
}
