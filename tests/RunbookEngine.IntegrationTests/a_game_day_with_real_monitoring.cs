using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using RunbookEngine.TestSupport;
using Xunit.Abstractions;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// The example restart runbook's game day end to end on real monitoring: a stand-in service scraped by Debian's
/// Prometheus 2.42, whose rule fires when the service is down, routed by Debian's Alertmanager to the host. The game
/// day kills the service; the alert fires; the runbook restarts the service; Prometheus sees it up; the alert resolves.
/// </summary>
public sealed class a_game_day_with_real_monitoring(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Token = "e2e-gameday-token";
    private const string Runbook = "restart-unhealthy-service";

    private readonly int _port = Loopback.FreePort();
    private readonly string _served = Directory.CreateTempSubdirectory("runbook-svc-").FullName;
    private readonly List<IAsyncDisposable> _started = [];
    private HostWorkspace _host = null!;
    private AlertmanagerProcess _alertmanager = null!;
    private PrometheusProcess _prometheus = null!;
    private int? _firstService;

    private string HealthUrl => $"http://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}/";

    private string PidFile => Path.Combine(_host.Root, "data", "services", "demo-service.pid");

    public async Task InitializeAsync()
    {
        Assert.True(PrometheusProcess.IsInstalled, "prometheus is not installed: apt-get install -y prometheus (tests/run.sh does this)");
        Assert.True(AlertmanagerProcess.IsInstalled, "prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager (tests/run.sh does this)");

        // What Prometheus scrapes: valid exposition text, served (as application/octet-stream, which 2.42 reads as text)
        // by the same python3 http.server the runbook starts; its folder listing at / is the health check.
        await File.WriteAllTextAsync(Path.Combine(_served, "metrics"), "# HELP demo_service_info The stand-in service.\n# TYPE demo_service_info gauge\ndemo_service_info 1\n");
        try
        {
            _host = await HostWorkspace.StartAsync(
                new Dictionary<string, string> { ["RunbookEngine__Alerts__Sources__alertmanager__BearerToken"] = Token },
                new Dictionary<string, string> { [Runbook] = RunbookOnThisPort(), ["lib/common"] = HostWorkspace.Example("lib/common.csx") });
            _started.Add(_host);
            _alertmanager = await AlertmanagerProcess.StartAsync(new Uri(_host.Host.Address, "/hooks/alertmanager"), Token);
            _started.Add(_alertmanager);

            // Up before Prometheus first scrapes it: a scrape that failed would fire the alert, and its run would put
            // the runbook in its cooldown before the game day begins.
            _firstService = await StartServiceAsync();
            await UntilAsync(async () => await AnswersAsync(HealthUrl), "the stand-in service never answered");
            _prometheus = await PrometheusProcess.StartAsync(PrometheusConfig(), new Dictionary<string, string> { ["rules.yml"] = Rules() });
            _started.Add(_prometheus);
            await UntilAsync(async () => (await _prometheus.QueryAsync("up{job=\"demo-service\"} == 1")).Count == 1, "Prometheus never scraped the stand-in service");
        }
        catch
        {
            // xunit does not call DisposeAsync when InitializeAsync throws.
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        // The service the runbook started is in the pid file; the one this test started may still run if the game
        // day never killed it. Then the rest, last started first.
        foreach (var pid in new[] { _firstService, ReadPid() }.OfType<int>().Distinct())
        {
            try
            {
                using var service = Process.GetProcessById(pid);
                service.Kill(entireProcessTree: true);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                // Already gone.
            }
        }

        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].DisposeAsync();
        }
    }

    [Fact]
    public async Task kills_the_service_and_measures_how_fast_the_alert_and_the_runbook_bring_it_back()
    {
        var (status, started) = await _host.Http.SendAsync(HttpMethod.Post, $"/api/runbooks/{Runbook}/gamedays", new { by = "e2e" });
        Assert.True(status == 202, $"the game day did not start ({status}): {started}");
        var id = started.GetProperty("id").GetString()!;

        var gameDay = await _host.Http.UntilAsync(
            $"/api/gamedays/{id}",
            g => g.GetProperty("status").GetString() != "Running" ? g : null,
            $"the game day never ended.\nPrometheus log:\n{_prometheus.Log}\nAlertmanager log:\n{_alertmanager.Log}\nHost log:\n{_host.Host.Log}");

        Assert.True(gameDay.GetProperty("status").GetString() == "Succeeded", $"{gameDay}\nHost log:\n{_host.Host.Log}");
        var detect = gameDay.GetProperty("timeToDetectSeconds").GetDouble();
        var remediate = gameDay.GetProperty("timeToRemediateSeconds").GetDouble();
        var recover = gameDay.GetProperty("timeToRecoverSeconds").GetDouble();
        Assert.True(detect > 0 && remediate > 0 && recover > 0, gameDay.ToString());
        Assert.True(detect < recover, gameDay.ToString());
        output.WriteLine($"time to detect {detect} s, to remediate {remediate} s, to recover {recover} s");

        var run = await _host.Http.EndedRunAsync(gameDay.GetProperty("runId").GetString()!);
        Assert.Equal("Succeeded", run.Status());
        Assert.Contains(run.Steps(), s => s.Name == "start service" && s.Status == "Succeeded");
        var alertId = gameDay.GetProperty("alertId").GetString()!;
        var (_, firing) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/alerts/{alertId}");
        var alert = firing.GetProperty("alert");
        Assert.Equal(("alertmanager", "ServiceHealthCheckFailing"), (alert.GetProperty("source").GetString(), alert.GetProperty("name").GetString()));
        Assert.Equal(HealthUrl, alert.GetProperty("annotations").GetProperty("health_url").GetString());

        Assert.True(await AnswersAsync(HealthUrl), "the service does not answer after the game day");
        Assert.NotEqual(_firstService, ReadPid());

        // Prometheus sees the restarted service up, its rule resolves, and Alertmanager tells the host.
        await _host.Http.UntilAsync(
            $"/api/alerts/{alertId}",
            a => a.GetProperty("alert").TryGetProperty("resolvedAt", out _) ? a : null,
            $"the alert never resolved.\nPrometheus alerts: {JsonSerializer.Serialize(await _prometheus.AlertsAsync())}\nAlertmanager log:\n{_alertmanager.Log}");
        var (_, resolved) = await _host.Http.SendAsync(HttpMethod.Get, "/api/alerts?source=alertmanager&status=resolved");
        Assert.Contains(resolved.GetProperty("alerts").EnumerateArray(), a => a.GetProperty("name").GetString() == "ServiceHealthCheckFailing");

        var (_, history) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/runbooks/{Runbook}/gamedays");
        Assert.Equal(id, history.GetProperty("gameDays")[0].GetProperty("id").GetString());
    }

    /// <summary>The example runbook with its service on this test's port and serving this test's metrics; its game day as written.</summary>
    private string RunbookOnThisPort()
    {
        var text = HostWorkspace.Example($"{Runbook}.csx");
        const string command = "python3 -m http.server 8089 --bind 127.0.0.1";
        Assert.Contains(command, text, StringComparison.Ordinal);
        return text
            .Replace(command, $"{command} --directory {_served}", StringComparison.Ordinal)
            .Replace("8089", _port.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    private string PrometheusConfig() => $"""
        global:
          scrape_interval: 1s
          scrape_timeout: 900ms
          evaluation_interval: 1s
        rule_files:
          - rules.yml
        alerting:
          alertmanagers:
            - static_configs:
                - targets: ['{_alertmanager.Address.Authority}']
        scrape_configs:
          - job_name: demo-service
            static_configs:
              - targets: ['127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}']
        """;

    private string Rules() => $$"""
        groups:
          - name: demo-service
            rules:
              - alert: ServiceHealthCheckFailing
                expr: up{job="demo-service"} == 0
                for: 0s
                labels:
                  severity: critical
                annotations:
                  summary: the demo service does not answer its scrape
                  health_url: '{{HealthUrl}}'
        """;

    /// <summary>Starts the service as the runbook does (its own session, its pid in the runbook's pid file).</summary>
    private async Task<int> StartServiceAsync()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(PidFile)!);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = _host.Root };
        foreach (var argument in new[]
        {
            "-c", "log=$1; shift; setsid \"$@\" >\"$log\" 2>&1 </dev/null & echo $!", "start", Path.Combine(_host.Root, "data", "services", "demo-service.log"),
            "python3", "-m", "http.server", _port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--directory", _served,
        })
        {
            start.ArgumentList.Add(argument);
        }

        using var bash = Process.Start(start)!;
        var pid = (await bash.StandardOutput.ReadToEndAsync()).Trim();
        await bash.WaitForExitAsync();
        await File.WriteAllTextAsync(PidFile, pid);
        return int.Parse(pid, CultureInfo.InvariantCulture);
    }

    private int? ReadPid() =>
        _host is not null && File.Exists(PidFile) && int.TryParse(File.ReadAllText(PidFile).Trim(), CultureInfo.InvariantCulture, out var pid) ? pid : null;

    private static async Task<bool> AnswersAsync(string url)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri(url));
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!await condition())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), failure);
            await tick.WaitForNextTickAsync();
        }
    }
}
