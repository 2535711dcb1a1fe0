using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;

namespace RunbookEngine.TestSupport;

/// <summary>
/// A real Prometheus Alertmanager (the Debian package prometheus-alertmanager, 0.25) started by hand in a temporary
/// folder on a free loopback port, with one route to a webhook receiver, for end-to-end tests. Alerts are pushed with
/// amtool, as an operator would. It is ready when GET /-/ready answers 200.
/// </summary>
public sealed class AlertmanagerProcess : IAsyncDisposable
{
    private const string ServerBinary = "prometheus-alertmanager";
    private const string ClientBinary = "amtool";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromMinutes(1);

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log = new();

    private AlertmanagerProcess(Process process, Uri address, string directory)
    {
        _process = process;
        Address = address;
        _directory = directory;
    }

    /// <summary>Whether both prometheus-alertmanager and amtool are on PATH or in /usr/bin.</summary>
    public static bool IsInstalled => Find(ServerBinary) is not null && Find(ClientBinary) is not null;

    /// <summary>Where Alertmanager answers (its API and UI).</summary>
    public Uri Address { get; }

    /// <summary>What Alertmanager has logged so far (debug level, so each flush and notification shows).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts an Alertmanager that notifies one webhook and waits until it is ready.</summary>
    /// <param name="webhookUrl">Where the webhook receiver posts (firing and resolved notifications).</param>
    /// <param name="bearerToken">If set, sent as "Authorization: Bearer ..." with every notification.</param>
    /// <param name="groupBy">The label Alertmanager groups alerts by (one notification, one groupKey per value).</param>
    /// <returns>The running Alertmanager.</returns>
    public static Task<AlertmanagerProcess> StartAsync(Uri webhookUrl, string? bearerToken = null, string groupBy = "alertname")
    {
        ArgumentNullException.ThrowIfNull(webhookUrl);
        return StartWithConfigAsync(Config(webhookUrl, bearerToken, groupBy));
    }

    /// <summary>Starts an Alertmanager with a configuration file of the caller's (such as docker-compose.yml's) and waits until it is ready.</summary>
    /// <param name="configYaml">The whole alertmanager.yml.</param>
    /// <returns>The running Alertmanager.</returns>
    public static async Task<AlertmanagerProcess> StartWithConfigAsync(string configYaml)
    {
        ArgumentNullException.ThrowIfNull(configYaml);
        ProcessReaper.Watch();
        var server = Find(ServerBinary) ?? throw NotInstalled();
        _ = Find(ClientBinary) ?? throw NotInstalled();

        var directory = Directory.CreateTempSubdirectory("runbook-am-").FullName;
        var config = Path.Combine(directory, "alertmanager.yml");
        await File.WriteAllTextAsync(config, configYaml);

        var port = Loopback.FreePort();
        var address = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/");
        var start = new ProcessStartInfo(server) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[]
        {
            $"--config.file={config}",
            $"--storage.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
            // Without it the payload's externalURL is http://<hostname>:<port>, which differs from machine to machine.
            $"--web.external-url={address}",
            // Empty: no cluster, so no gossip listener on 0.0.0.0:9094 and no wait for peers before /-/ready.
            "--cluster.listen-address=",
            "--log.level=debug",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var alertmanager = new AlertmanagerProcess(new Process { StartInfo = start }, address, directory);
        try
        {
            alertmanager._process.OutputDataReceived += (_, e) => alertmanager.Record(e.Data);
            alertmanager._process.ErrorDataReceived += (_, e) => alertmanager.Record(e.Data);
            alertmanager._process.Start();
            alertmanager._process.BeginOutputReadLine();
            alertmanager._process.BeginErrorReadLine();
            await alertmanager.WaitUntilReadyAsync();
            return alertmanager;
        }
        catch
        {
            await alertmanager.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// Pushes a firing alert (no end time) with amtool. The notification follows within tens of milliseconds when the
    /// alertname is new; reusing an alertname from a recent alert can delay it by up to group_interval (1 s).
    /// </summary>
    /// <param name="labels">The alert's labels, alertname included.</param>
    /// <param name="annotations">Its annotations, such as summary or runbook_url.</param>
    /// <returns>A task that completes when Alertmanager has accepted the alert.</returns>
    public Task FireAsync(IReadOnlyDictionary<string, string> labels, IReadOnlyDictionary<string, string>? annotations = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var arguments = Pairs(labels).ToList();
        arguments.AddRange(Pairs(annotations ?? new Dictionary<string, string>()).Select(pair => $"--annotation={pair}"));
        return AddAsync(arguments);
    }

    /// <summary>Pushes the same alert again with an end time of now, so Alertmanager sends the resolved notification.</summary>
    /// <param name="labels">The labels the alert was fired with.</param>
    /// <returns>A task that completes when Alertmanager has accepted the resolution.</returns>
    public Task ResolveAsync(IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var arguments = Pairs(labels).ToList();
        // Milliseconds, not whole seconds: the re-posted alert gets startsAt = endsAt, and Alertmanager keeps the earlier
        // startsAt when it merges, so a truncated end before the original start (fired in the same second) would replace
        // startsAt and the resolved notification would no longer carry the firing one's startsAt.
        // An end at or before now is enough: the alert counts as resolved at once, no resolve_timeout is involved, and the
        // notification goes out on the group's next group_interval tick.
        var end = TimeProvider.System.GetUtcNow().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        arguments.Add($"--end={end}");
        return AddAsync(arguments);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await ProcessCleanup.KillAndRemoveAsync(_process, _directory);
    }

    private static string Config(Uri webhookUrl, string? bearerToken, string groupBy)
    {
        var config = new StringBuilder();
        config.AppendLine("global:");
        // Only alerts pushed without an end (FireAsync) use it: Alertmanager would resolve them by itself after the
        // default 5m; an hour keeps a slow test from seeing a resolved notification it did not ask for.
        config.AppendLine("  resolve_timeout: 1h");
        config.AppendLine("route:");
        config.AppendLine("  receiver: webhook");
        config.AppendLine(CultureInfo.InvariantCulture, $"  group_by: ['{groupBy}']");
        // 0s is accepted and makes a new group flush as soon as its first alert arrives (measured 30-80 ms after amtool).
        // Only a new group, though: an alert joining a group that exists (same alertname still firing, or resolved less
        // than about 30 s ago, before the dispatcher drops the empty group) waits for that group's next group_interval tick.
        config.AppendLine("  group_wait: 0s");
        // A change to an existing group (such as a resolution) is only sent on the group's next tick, so this bounds how
        // long the resolved notification takes; ticks while nothing changed send nothing.
        config.AppendLine("  group_interval: 1s");
        // Unchanged groups are re-sent every repeat_interval; an hour keeps duplicates out of a test.
        config.AppendLine("  repeat_interval: 1h");
        config.AppendLine("receivers:");
        config.AppendLine("  - name: webhook");
        config.AppendLine("    webhook_configs:");
        config.AppendLine(CultureInfo.InvariantCulture, $"      - url: {Quote(webhookUrl.AbsoluteUri)}");
        config.AppendLine("        send_resolved: true");
        if (bearerToken is not null)
        {
            config.AppendLine("        http_config:");
            config.AppendLine("          authorization:");
            config.AppendLine("            type: Bearer");
            config.AppendLine(CultureInfo.InvariantCulture, $"            credentials: {Quote(bearerToken)}");
        }

        return config.ToString();
    }

    // A YAML single-quoted scalar: nothing is special inside but the quote, which is doubled.
    private static string Quote(string value) => $"'{value.Replace("'", "''", StringComparison.Ordinal)}'";

    // amtool parses each name=value like a matcher: an unquoted value starting with ~ would read as =~ and be refused,
    // and surrounding spaces would be trimmed, so every value is double-quoted with \, " and newlines escaped.
    private static IEnumerable<string> Pairs(IReadOnlyDictionary<string, string> pairs) =>
        pairs.Select(pair =>
            $"{pair.Key}=\"{pair.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)}\"");

    private static string? Find(string binary)
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin");
        return directories.Select(directory => Path.Combine(directory, binary)).FirstOrDefault(File.Exists);
    }

    private static InvalidOperationException NotInstalled() => new(
        $"{ServerBinary} and {ClientBinary} were not found on PATH or in /usr/bin; install prometheus-alertmanager (apt-get install -y prometheus-alertmanager)");

    private async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var ready = new Uri(Address, "-/ready");
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (TimeProvider.System.GetElapsedTime(started) < ReadyTimeout)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync(); // lets the last log lines arrive
                throw new InvalidOperationException($"{ServerBinary} exited with {_process.ExitCode} before it was ready:\n{Log}");
            }

            try
            {
                using var response = await client.GetAsync(ready);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await tick.WaitForNextTickAsync();
        }

        throw new InvalidOperationException($"{ServerBinary} was not ready at {ready} within {ReadyTimeout.TotalSeconds:0} s:\n{Log}");
    }

    private async Task AddAsync(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Find(ClientBinary) ?? throw NotInstalled())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var all = new[] { $"--alertmanager.url={Address}", "alert", "add" }.Concat(arguments).ToList();
        foreach (var argument in all)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(ClientTimeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{ClientBinary} {string.Join(' ', all)} did not finish within {ClientTimeout.TotalSeconds:0} s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{ClientBinary} {string.Join(' ', all)} exited with {process.ExitCode}: {(await error).Trim()}{(await output).Trim()}");
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
