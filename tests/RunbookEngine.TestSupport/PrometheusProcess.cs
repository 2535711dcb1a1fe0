using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace RunbookEngine.TestSupport;

/// <summary>
/// A real Prometheus (the Debian package prometheus, 2.42) started by hand in a temporary folder on a free loopback
/// port, with the caller's configuration and rule files, for end-to-end tests: it scrapes what the test serves,
/// evaluates the rules and sends alerts to an Alertmanager. It is ready when GET /-/ready answers 200.
/// </summary>
public sealed class PrometheusProcess : IAsyncDisposable
{
    private const string Binary = "prometheus";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log = new();
    private readonly HttpClient _http;

    private PrometheusProcess(Process process, Uri address, string directory)
    {
        _process = process;
        Address = address;
        _directory = directory;
        _http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(10) };
    }

    /// <summary>Whether prometheus is on PATH or in /usr/bin.</summary>
    public static bool IsInstalled => Find() is not null;

    /// <summary>Where Prometheus answers (its API and UI).</summary>
    public Uri Address { get; }

    /// <summary>What Prometheus has logged so far.</summary>
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

    /// <summary>
    /// Writes prometheus.yml and the rule files into a scratch folder (the configuration names rule files relative to
    /// it), starts Prometheus on a free loopback port and waits until it is ready.
    /// </summary>
    /// <param name="configYaml">The whole prometheus.yml.</param>
    /// <param name="files">Other files beside it by name, such as rule files.</param>
    /// <param name="history">
    /// Samples to hold from the start, in OpenMetrics text (ending <c># EOF</c>, timestamps in seconds): written into its
    /// data folder as blocks with <c>promtool tsdb create-blocks-from openmetrics</c>, as a backfill of real history is.
    /// </param>
    /// <returns>The running Prometheus.</returns>
    public static async Task<PrometheusProcess> StartAsync(string configYaml, IReadOnlyDictionary<string, string>? files = null, string? history = null)
    {
        ArgumentNullException.ThrowIfNull(configYaml);
        ProcessReaper.Watch();
        var server = Find() ?? throw new InvalidOperationException(
            $"{Binary} was not found on PATH or in /usr/bin; install Debian's prometheus (apt-get install -y prometheus; tests/run.sh does this)");

        var directory = Directory.CreateTempSubdirectory("runbook-prom-").FullName;
        var config = Path.Combine(directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, configYaml);
        foreach (var (name, text) in files ?? new Dictionary<string, string>())
        {
            await File.WriteAllTextAsync(Path.Combine(directory, name), text);
        }

        if (history is not null)
        {
            try
            {
                await BackfillAsync(directory, history);
            }
            catch
            {
                Directory.Delete(directory, recursive: true);
                throw;
            }
        }

        var port = Loopback.FreePort().ToString(CultureInfo.InvariantCulture);
        var address = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo(server) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (var argument in new[]
        {
            $"--config.file={config}",
            $"--storage.tsdb.path={Path.Combine(directory, "data")}",
            $"--web.listen-address=127.0.0.1:{port}",
            // Without it the alerts' generatorURL names this machine's host name, which differs from machine to machine.
            $"--web.external-url={address}",
            // Backfilled history is kept however old its samples are (the default keeps 15 days).
            "--storage.tsdb.retention.time=3650d",
        })
        {
            start.ArgumentList.Add(argument);
        }

        var prometheus = new PrometheusProcess(new Process { StartInfo = start }, address, directory);
        try
        {
            prometheus._process.OutputDataReceived += (_, e) => prometheus.Record(e.Data);
            prometheus._process.ErrorDataReceived += (_, e) => prometheus.Record(e.Data);
            prometheus._process.Start();
            prometheus._process.BeginOutputReadLine();
            prometheus._process.BeginErrorReadLine();
            await prometheus.WaitUntilReadyAsync();
            return prometheus;
        }
        catch
        {
            await prometheus.DisposeAsync();
            throw;
        }
    }

    /// <summary>An instant query through the HTTP API.</summary>
    /// <param name="expression">PromQL.</param>
    /// <returns>The result vector's samples (each with metric and value).</returns>
    public async Task<IReadOnlyList<JsonElement>> QueryAsync(string expression)
    {
        using var response = await _http.GetAsync(new Uri($"api/v1/query?query={Uri.EscapeDataString(expression)}", UriKind.Relative));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new InvalidOperationException($"the query {expression} answered {(int)response.StatusCode}: {text}");
        }

        return [.. JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("result").EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>The alerts Prometheus holds now (pending or firing), as its API shows them.</summary>
    /// <returns>The alerts.</returns>
    public async Task<IReadOnlyList<JsonElement>> AlertsAsync()
    {
        var text = await _http.GetStringAsync(new Uri("api/v1/alerts", UriKind.Relative));
        return [.. JsonDocument.Parse(text).RootElement.GetProperty("data").GetProperty("alerts").EnumerateArray().Select(e => e.Clone())];
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await ProcessCleanup.KillAndRemoveAsync(_process, _directory);
    }

    private static async Task BackfillAsync(string directory, string history)
    {
        var promtool = Path.Combine(Path.GetDirectoryName(Find()!)!, "promtool");
        var input = Path.Combine(directory, "history.om");
        await File.WriteAllTextAsync(input, history);
        var start = new ProcessStartInfo(promtool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (var argument in new[] { "tsdb", "create-blocks-from", "openmetrics", input, Path.Combine(directory, "data") })
        {
            start.ArgumentList.Add(argument);
        }

        using var tool = Process.Start(start) ?? throw new InvalidOperationException($"{promtool} did not start");
        var output = tool.StandardOutput.ReadToEndAsync();
        var errors = await tool.StandardError.ReadToEndAsync();
        await tool.WaitForExitAsync();
        if (tool.ExitCode != 0)
        {
            throw new InvalidOperationException($"promtool could not turn the history into blocks ({tool.ExitCode}):\n{errors}{await output}");
        }
    }

    private static string? Find()
    {
        var directories = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin");
        return directories.Select(directory => Path.Combine(directory, Binary)).FirstOrDefault(File.Exists);
    }

    private async Task WaitUntilReadyAsync()
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (TimeProvider.System.GetElapsedTime(started) < ReadyTimeout)
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"{Binary} exited with {_process.ExitCode} before it was ready:\n{Log}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("-/ready", UriKind.Relative));
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

        throw new InvalidOperationException($"{Binary} was not ready at {Address}-/ready within {ReadyTimeout.TotalSeconds:0} s:\n{Log}");
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
