using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace RunbookEngine.Benchmarks.Dashboard;

/// <summary>What the seeder wrote, and the ids and words the measured URLs use.</summary>
/// <param name="Runbooks">The runbook names (the host gets a file for each).</param>
/// <param name="FilteredRunbook">A runbook with about 5% of the runs, for <c>/?runbook=</c>.</param>
/// <param name="Person">Someone who started about 1% of the runs (free text that matches about 1%).</param>
/// <param name="Target">A host name that about 0.5% of the runs act on, for <c>/?target=</c>.</param>
/// <param name="AlertRunId">A failed run started by an alert and retried later (the run page with everything on it).</param>
/// <param name="PlainRunId">A succeeded scheduled run with no alert and no retry.</param>
/// <param name="AlertId">The alert of <paramref name="AlertRunId"/>.</param>
/// <param name="Counts">Rows per table and what the seeding took.</param>
internal sealed record Dataset(
    IReadOnlyList<string> Runbooks, string FilteredRunbook, string Person, string Target, string AlertRunId, string PlainRunId, string AlertId, string Counts);

/// <summary>
/// Fills an empty, migrated database with 100,000 runs of 20 runbooks over 90 days, ten steps each (1,000,000 steps with a few
/// hundred bytes of output), and the alerts (with their deliveries) that started the alert-triggered runs. Deterministic
/// (seeded random), and fast: PostgreSQL <c>COPY</c> in binary through Npgsql, foreign-key triggers off for the load.
/// </summary>
internal static class Seeder
{
    public const int Runs = 100_000;
    public const int StepsPerRun = 10;
    public const int Days = 90;

    // The repository's four runbooks and sixteen more of the usual kind; shares fall off as 1/rank (27.8% ... 1.4%).
    public static readonly string[] Runbooks =
    [
        "restart-unhealthy-service", "disk-cleanup", "tls-cert-expiry", "prune-snapshots", "rotate-logs", "scale-out-workers",
        "clear-cdn-cache", "restart-pod", "drain-node", "failover-database", "renew-dns-records", "flush-dead-letter-queue",
        "rebuild-search-index", "reset-circuit-breaker", "vacuum-database", "rollback-deploy", "restart-kafka-consumer",
        "expand-volume", "rotate-credentials", "reindex-metrics",
    ];

    private static readonly string[] StepNames =
    [
        "check preconditions", "collect diagnostics", "notify channel", "snapshot state", "approve change", "apply fix",
        "wait for healthy", "verify", "restore traffic", "post summary",
    ];

    private static readonly string[] Services = ["nginx", "api-gateway", "postgres", "redis", "kafka", "search", "billing-worker", "ingest"];
    private static readonly string[] Operators = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "oscar"];

    // Starts 4% of the runs people start, about 1% of all; the name appears nowhere else.
    private const string RarePerson = "mallory";
    private static readonly string[] Errors =
    [
        "step 'apply fix' failed: systemctl restart {svc} on {host} exited with 1: Job for {svc}.service failed because the control process exited with error code.",
        "step 'wait for healthy' timed out after 5m: {host} still answers 503 on /healthz",
        "step 'check preconditions' failed: {host} is in a maintenance window until 06:00 UTC; refusing to act",
        "ssh to {host} failed: connection timed out after 30s (port 22)",
        "step 'verify' failed: error rate on {svc} still 12.4% after the fix (threshold 1%)",
        "kubectl rollout status deployment/{svc} -n prod: deadline exceeded; 2 of 6 replicas unavailable",
        "permission denied: /var/lib/{svc} is not under an allowed root (/var/log, /var/tmp, /tmp)",
        "the run was cancelled by {who}: superseded by a manual fix",
        "HTTP 500 from the {svc} admin API on {host}: {\"error\":\"lock held by another operation\"}",
        "disk still 94% full on {host} after deleting 1,204 files (3.1 GB); threshold 80%",
    ];

    /// <param name="connectionString">The migrated, empty database.</param>
    /// <param name="now">The newest runs are queued a minute before this.</param>
    /// <param name="deferredIndexes">
    /// Indexes on runbook_runs to drop for the load and build again after it (the trigram GIN indexes, which would otherwise
    /// be kept up row by row during the COPY); what the builds took is in <see cref="Dataset.Counts"/>.
    /// </param>
    public static async Task<Dataset> SeedAsync(string connectionString, DateTimeOffset now, IReadOnlyList<string> deferredIndexes)
    {
        var clock = Stopwatch.StartNew();
        var random = new Random(20261125);
        var nowMs = now.ToUnixTimeMilliseconds();
        var fromMs = nowMs - (Days * 86_400_000L);

        // Versions: each runbook changed five times over the 90 days.
        var hashes = Runbooks.Select(_ => Enumerable.Range(0, 5).Select(_ => (Hash: Hex(random, 64), Commit: Hex(random, 40))).ToArray()).ToArray();
        var harmonic = Enumerable.Range(1, Runbooks.Length).Sum(rank => 1.0 / rank);
        var cumulative = Enumerable.Range(1, Runbooks.Length).Select(rank => 1.0 / rank / harmonic).ToArray();
        for (var i = 1; i < cumulative.Length; i++)
        {
            cumulative[i] += cumulative[i - 1];
        }

        var hosts = Enumerable.Range(1, 40).Select(i => $"web-{i:00}.prod.example.net")
            .Concat(Enumerable.Range(1, 12).Select(i => $"db-{i:00}.prod.example.net"))
            .Concat(Enumerable.Range(1, 8).Select(i => $"cache-{i:00}.prod.example.net"))
            .Concat(Enumerable.Range(1, 120).Select(i => $"worker-{i:000}.prod.example.net"))
            .ToArray();
        var times = new long[Runs];
        for (var i = 0; i < Runs; i++)
        {
            times[i] = fromMs + random.NextInt64(nowMs - 60_000 - fromMs);
        }

        Array.Sort(times);
        var runs = new Run[Runs];
        var unretried = Runbooks.Select(_ => new Stack<int>()).ToArray();
        for (var i = 0; i < Runs; i++)
        {
            var pick = random.NextDouble();
            var book = Array.FindIndex(cumulative, c => pick <= c);
            book = book < 0 ? Runbooks.Length - 1 : book;
            var queued = times[i];
            var roll = random.NextDouble();
            var trigger = roll < 0.35 ? "Alert" : roll < 0.75 ? "Schedule" : roll < 0.95 ? "Manual" : "Retry";
            string? retryOf = null;
            if (trigger == "Retry")
            {
                if (unretried[book].TryPop(out var failed))
                {
                    retryOf = runs[failed].Id;
                    runs[failed].Retried = true;
                }
                else
                {
                    trigger = "Manual";
                }
            }

            var status = random.NextDouble() switch
            {
                < 0.87 => "Succeeded",
                < 0.96 => "Failed",
                < 0.985 => "Cancelled",
                _ => "TimedOut",
            };
            var host = hosts[random.Next(hosts.Length)];
            var service = Services[random.Next(Services.Length)];
            var who = trigger switch
            {
                "Alert" => "alertmanager",
                "Schedule" => "schedule",
                _ => random.NextDouble() < 0.04 ? RarePerson : Operators[random.Next(Operators.Length)],
            };
            var hasTarget = trigger == "Alert" || random.NextDouble() < 0.8;
            var parameters = new Dictionary<string, string> { ["service"] = service, ["timeout"] = $"{1 + random.Next(10)}m" };
            if (hasTarget)
            {
                parameters["host"] = host;
            }

            if (trigger is "Manual" or "Retry")
            {
                parameters["reason"] = $"asked in #ops by {who}, ticket OPS-{10_000 + random.Next(90_000)}";
            }

            var started = queued + 5 + random.Next(400);
            var finished = started + 2_000 + random.NextInt64(book % 3 == 0 ? 600_000 : 60_000);
            var version = hashes[book][(int)Math.Min(4, (queued - fromMs) * 5 / (nowMs - fromMs))];
            var failedStep = status == "Succeeded" ? -1 : 2 + random.Next(StepsPerRun - 2);
            var error = status == "Succeeded" ? null : Errors[random.Next(Errors.Length)].Replace("{host}", host, StringComparison.Ordinal)
                .Replace("{svc}", service, StringComparison.Ordinal).Replace("{who}", Operators[random.Next(Operators.Length)], StringComparison.Ordinal);
            runs[i] = new Run
            {
                Id = Id(random, queued),
                Book = book,
                Commit = version.Commit,
                ContentHash = version.Hash,
                Trigger = trigger,
                TriggeredBy = who,
                Parameters = JsonSerializer.Serialize(parameters),
                Status = status,
                Attempt = random.NextDouble() < 0.03 ? 2 : 1,
                Node = $"node-{(char)('a' + random.Next(3))}",
                ConcurrencyKey = hasTarget && book % 2 == 0 ? $"{Runbooks[book]}:{host}" : null,
                QueuedAt = queued,
                StartedAt = started,
                FinishedAt = finished,
                Error = error,
                RetryOf = retryOf,
                AlertId = trigger == "Alert" ? Id(random, queued - 40 - random.Next(200)) : null,
                Target = hasTarget ? host : null,
                ManualMinutes = 5 + (book % 4 * 10),
                FailedStep = failedStep,
                Fingerprint = Hex(random, 16),
            };
            if (status is "Failed" or "TimedOut")
            {
                unretried[book].Push(i);
            }
        }

        var outputs = Enumerable.Range(0, 500).Select(i => Output(random, hosts[i % hosts.Length], Services[i % Services.Length])).ToArray();
        var generated = clock.Elapsed;

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var replica = new NpgsqlCommand("SET session_replication_role = replica", connection))
        {
            // The rows are consistent by construction; skipping the per-row foreign-key triggers makes the load several times faster.
            await replica.ExecuteNonQueryAsync();
        }

        var deferred = new List<(string Name, string Definition)>();
        foreach (var name in deferredIndexes)
        {
            await using var find = new NpgsqlCommand("SELECT indexdef FROM pg_indexes WHERE indexname = @name", connection);
            find.Parameters.AddWithValue("name", name);
            if (await find.ExecuteScalarAsync() is string definition)
            {
                deferred.Add((name, definition));
                await using var drop = new NpgsqlCommand($"DROP INDEX {name}", connection);
                await drop.ExecuteNonQueryAsync();
            }
        }

        var alerts = runs.Where(r => r.AlertId is not null).ToArray();
        await CopyAsync(connection, "runbook_deliveries (id, source, received_at, source_delivery_id, payload, alerts)", alerts, (w, run) =>
        {
            Text(w, "d" + run.AlertId);
            Text(w, "alertmanager");
            Long(w, run.QueuedAt - 20);
            Text(w, null);
            Text(w, Payload(run));
            w.Write(1, NpgsqlDbType.Integer);
        });
        await CopyAsync(connection, """
            runbook_alerts (id, delivery, source, name, status, severity, labels, annotations, starts_at, ends_at, fingerprint,
                            source_delivery_id, dedup_key, received_at, outcome, detail, duplicate_of, claimed_by, claimed_at, resolved_at)
            """, alerts, (w, run) =>
        {
            Text(w, run.AlertId);
            Text(w, "d" + run.AlertId);
            Text(w, "alertmanager");
            Text(w, AlertName(run));
            Text(w, "Firing");
            Text(w, "critical");
            Text(w, JsonSerializer.Serialize(Labels(run)));
            Text(w, JsonSerializer.Serialize(new Dictionary<string, string> { ["summary"] = $"{AlertName(run)} on {run.Target}" }));
            Long(w, run.QueuedAt - 120_000);
            Long(w, null);
            Text(w, run.Fingerprint);
            Text(w, null);
            Text(w, $"alertmanager:{run.Fingerprint}:{run.QueuedAt - 120_000}");
            Long(w, run.QueuedAt - 20);
            Text(w, "Started");
            Text(w, null);
            Text(w, null);
            Text(w, "node-a");
            Long(w, run.QueuedAt - 10);
            Long(w, run.FinishedAt + 60_000);
        });
        await CopyAsync(connection, "runbook_alert_keys (dedup_key, alert_id)", alerts, (w, run) =>
        {
            Text(w, $"alertmanager:{run.Fingerprint}:{run.QueuedAt - 120_000}");
            Text(w, run.AlertId);
        });
        await CopyAsync(connection, """
            runbook_runs (id, runbook, commit_sha, content_hash, trigger_kind, triggered_by, parameters, status, attempt, node, concurrency_key,
                          queued_at, started_at, finished_at, error, retry_of, alert_id, target, manual_minutes)
            """, runs, (w, run) =>
        {
            Text(w, run.Id);
            Text(w, Runbooks[run.Book]);
            Text(w, run.Commit);
            Text(w, run.ContentHash);
            Text(w, run.Trigger);
            Text(w, run.TriggeredBy);
            Text(w, run.Parameters);
            Text(w, run.Status);
            w.Write(run.Attempt, NpgsqlDbType.Integer);
            Text(w, run.Node);
            Text(w, run.ConcurrencyKey);
            Long(w, run.QueuedAt);
            Long(w, run.StartedAt);
            Long(w, run.FinishedAt);
            Text(w, run.Error);
            Text(w, run.RetryOf);
            Text(w, run.AlertId);
            Text(w, run.Target);
            w.Write(run.ManualMinutes, NpgsqlDbType.Double);
        });
        var runsLoaded = clock.Elapsed;
        var steps = runs.SelectMany(run => Enumerable.Range(1, StepsPerRun).Select(sequence => (Run: run, Sequence: sequence)));
        await CopyAsync(connection, """
            runbook_steps (run_id, sequence, name, kind, status, started_at, finished_at, attempts, output, error, actor, result_json,
                           idempotent, picked_up_at, manual_minutes, comment, role, different_person, due_at)
            """, steps, (w, s) =>
        {
            var (run, sequence) = s;
            var index = sequence - 1;
            var span = (run.FinishedAt - run.StartedAt) / StepsPerRun;
            var start = run.StartedAt + (index * span);
            var approval = index == 4 && run.Book % 4 == 1;
            var status = run.FailedStep < 0 || index < run.FailedStep ? "Succeeded"
                : index > run.FailedStep ? "Skipped"
                : run.Status == "TimedOut" ? "TimedOut" : run.Status == "Cancelled" ? "Cancelled" : "Failed";
            Text(w, run.Id);
            w.Write(sequence, NpgsqlDbType.Integer);
            Text(w, StepNames[index]);
            Text(w, approval ? "Approval" : "Automated");
            Text(w, status);
            Long(w, start);
            Long(w, status == "Skipped" ? start : start + span - 1);
            w.Write(status == "Failed" && run.Attempt > 1 ? 2 : 1, NpgsqlDbType.Integer);
            Text(w, status == "Skipped" ? "" : outputs[(int)(((run.QueuedAt * 31) + sequence) % outputs.Length)]);
            Text(w, index == run.FailedStep ? run.Error : null);
            Text(w, approval ? Operators[run.Book % Operators.Length] : "");
            Text(w, index == 1 ? string.Create(CultureInfo.InvariantCulture, $$"""{"load":"{{(run.QueuedAt % 400) / 100.0:0.00}}","memFreeMb":"{{run.QueuedAt % 8192}}"}""") : null);
            w.Write(index is 1 or 7 ? 1 : 0, NpgsqlDbType.Integer);
            Long(w, approval ? start + 30_000 : null);
            if (approval)
            {
                w.Write(5.0, NpgsqlDbType.Double);
            }
            else
            {
                w.WriteNull();
            }

            Text(w, approval ? "looks right, go ahead" : null);
            Text(w, approval ? "sre" : null);
            w.Write(0, NpgsqlDbType.Integer);
            Long(w, null);
        });
        var stepsLoaded = clock.Elapsed;
        var builds = new List<string>();
        foreach (var (name, definition) in deferred)
        {
            var build = Stopwatch.StartNew();
            await using var create = new NpgsqlCommand(definition, connection) { CommandTimeout = 0 };
            await create.ExecuteNonQueryAsync();
            builds.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {build.Elapsed.TotalSeconds:0.0} s"));
        }

        var indexesBuilt = clock.Elapsed;
        // As a table that has been there a while: vacuumed (visibility map set), analysed, and the load's writes checkpointed
        // so no checkpoint of them runs during the measurements.
        foreach (var maintenance in new[] { "VACUUM (ANALYZE)", "CHECKPOINT" })
        {
            await using var command = new NpgsqlCommand(maintenance, connection) { CommandTimeout = 0 };
            await command.ExecuteNonQueryAsync();
        }

        var alertRun = runs.Skip(Runs / 2).First(r => r.Trigger == "Alert" && r.Status == "Failed" && r.Retried);
        var plainRun = runs.Skip(Runs / 2).First(r => r.Trigger == "Schedule" && r.Status == "Succeeded" && !r.Retried);
        var sizes = new StringBuilder();
        foreach (var table in new[] { "runbook_runs", "runbook_steps", "runbook_alerts", "runbook_deliveries" })
        {
            await using var size = new NpgsqlCommand($"SELECT COUNT(*), pg_size_pretty(pg_total_relation_size('{table}')) FROM {table}", connection);
            await using var reader = await size.ExecuteReaderAsync();
            await reader.ReadAsync();
            sizes.Append(CultureInfo.InvariantCulture, $"{table} {reader.GetInt64(0):N0} rows, {reader.GetString(1)} with indexes; ");
        }

        var deferredText = deferred.Count == 0
            ? "no index dropped for the load"
            : string.Create(CultureInfo.InvariantCulture, $"indexes dropped for the load built again by {indexesBuilt.TotalSeconds:0.0} s ({string.Join(", ", builds)})");
        var counts = string.Create(CultureInfo.InvariantCulture,
            $"{sizes}generated in {generated.TotalSeconds:0.0} s, alerts+runs copied by {runsLoaded.TotalSeconds:0.0} s, steps by {stepsLoaded.TotalSeconds:0.0} s, {deferredText}, VACUUM ANALYZE and CHECKPOINT by {clock.Elapsed.TotalSeconds:0.0} s");
        return new Dataset(Runbooks, Runbooks[5], RarePerson, "web-07.prod", alertRun.Id, plainRun.Id, alertRun.AlertId!, counts);
    }

    private static async Task CopyAsync<T>(NpgsqlConnection connection, string table, IEnumerable<T> rows, Action<NpgsqlBinaryImporter, T> write)
    {
        await using var writer = await connection.BeginBinaryImportAsync($"COPY {table} FROM STDIN (FORMAT BINARY)");
        foreach (var row in rows)
        {
            // The synchronous writes buffer in memory and flush in large chunks; per-field awaits would cost more than the copy.
            writer.StartRow();
            write(writer, row);
        }

        await writer.CompleteAsync();
    }

    private static void Text(NpgsqlBinaryImporter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNull();
        }
        else
        {
            writer.Write(value, NpgsqlDbType.Text);
        }
    }

    private static void Long(NpgsqlBinaryImporter writer, long? value)
    {
        if (value is { } v)
        {
            writer.Write(v, NpgsqlDbType.Bigint);
        }
        else
        {
            writer.WriteNull();
        }
    }

    /// <summary>A version 7 UUID in the "N" form the store uses: the time in its first 12 hex digits, the rest seeded random.</summary>
    private static string Id(Random random, long ms) => string.Create(CultureInfo.InvariantCulture,
        $"{ms:x12}7{random.Next(0x1000):x3}{8 + random.Next(4):x}{random.Next(0x1000):x3}{random.NextInt64(1L << 48):x12}");

    private static string Hex(Random random, int length)
    {
        var bytes = new byte[length / 2];
        random.NextBytes(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    private static string AlertName(Run run) => run.Book switch
    {
        0 => "ServiceUnhealthy",
        1 => "NodeFilesystemAlmostFull",
        2 => "TlsCertificateExpiringSoon",
        _ => $"{Runbooks[run.Book].Replace("-", "", StringComparison.Ordinal)}Needed",
    };

    private static Dictionary<string, string> Labels(Run run) => new()
    {
        ["alertname"] = AlertName(run),
        ["instance"] = run.Target ?? "",
        ["severity"] = "critical",
        ["team"] = "sre",
        ["env"] = "prod",
    };

    private static string Payload(Run run) => JsonSerializer.Serialize(new
    {
        version = "4",
        status = "firing",
        receiver = "runbook-engine",
        groupLabels = new { alertname = AlertName(run) },
        commonLabels = Labels(run),
        externalURL = "http://alertmanager.prod.example.net:9093",
        alerts = new[]
        {
            new
            {
                status = "firing",
                labels = Labels(run),
                annotations = new { summary = $"{AlertName(run)} on {run.Target}", runbook_url = $"https://runbooks.example.net/{Runbooks[run.Book]}" },
                startsAt = DateTimeOffset.FromUnixTimeMilliseconds(run.QueuedAt - 120_000),
                fingerprint = run.Fingerprint,
            },
        },
    });

    /// <summary>Log lines of the kind a step prints; 200 to 500 bytes.</summary>
    private static string Output(Random random, string host, string service)
    {
        var lines = new StringBuilder();
        var target = 200 + random.Next(300);
        while (lines.Length < target)
        {
            FormattableString line = random.Next(5) switch
            {
                0 => (FormattableString)$"checking {service} on {host}: active (running) since {random.Next(1, 30)}d, pid {random.Next(1000, 60000)}\n",
                1 => (FormattableString)$"/var/lib/{service} {random.Next(40, 99)}% used ({random.Next(10, 500)} GB of 512 GB)\n",
                2 => (FormattableString)$"GET https://{host}/healthz -> {(random.Next(10) == 0 ? 503 : 200)} in {random.Next(2, 900)} ms\n",
                3 => (FormattableString)$"{service}: {random.Next(0, 5000)} requests/s, p99 {random.Next(5, 2000)} ms, errors {random.Next(0, 100) / 10.0:0.0}%\n",
                _ => (FormattableString)$"ran: systemctl status {service} --no-pager (exit {(random.Next(8) == 0 ? 3 : 0)})\n",
            };
            lines.Append(FormattableString.Invariant(line));
        }

        return lines.ToString();
    }

    private sealed class Run
    {
        public string Id { get; init; } = "";
        public int Book { get; init; }
        public string Commit { get; init; } = "";
        public string ContentHash { get; init; } = "";
        public string Trigger { get; init; } = "";
        public string TriggeredBy { get; init; } = "";
        public string Parameters { get; init; } = "";
        public string Status { get; init; } = "";
        public int Attempt { get; init; }
        public string Node { get; init; } = "";
        public string? ConcurrencyKey { get; init; }
        public long QueuedAt { get; init; }
        public long StartedAt { get; init; }
        public long FinishedAt { get; init; }
        public string? Error { get; init; }
        public string? RetryOf { get; init; }
        public string? AlertId { get; init; }
        public string? Target { get; init; }
        public double ManualMinutes { get; init; }
        public int FailedStep { get; init; }
        public string Fingerprint { get; init; } = "";
        public bool Retried { get; set; }
    }
}
