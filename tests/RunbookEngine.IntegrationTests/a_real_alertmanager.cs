using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>Debian's Prometheus Alertmanager 0.25 posting real webhooks (with a bearer token) to a real host.</summary>
public sealed class a_real_alertmanager : IAsyncLifetime
{
    private const string Token = "e2e-alertmanager-token";
    private HostWorkspace _host = null!;
    private AlertmanagerProcess _alertmanager = null!;

    public async Task InitializeAsync()
    {
        Assert.True(AlertmanagerProcess.IsInstalled, "prometheus-alertmanager is not installed: apt-get install -y prometheus-alertmanager (tests/run.sh does this)");
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string> { ["RunbookEngine__Alerts__Sources__alertmanager__BearerToken"] = Token });
        try
        {
            _alertmanager = await AlertmanagerProcess.StartAsync(new Uri(_host.Host.Address, "/hooks/alertmanager"), Token);
        }
        catch
        {
            // xunit does not call DisposeAsync when InitializeAsync throws.
            await _host.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        await _alertmanager.DisposeAsync();
        await _host.DisposeAsync();
    }

    [Fact]
    public async Task fires_an_alert_that_its_runbook_fixes_then_resolves_it()
    {
        var work = Directory.CreateTempSubdirectory("runbook-am-").FullName;
        var labels = new Dictionary<string, string> { ["alertname"] = "DiskFull", ["instance"] = "am-e2e:9100", ["severity"] = "critical", ["job"] = "node" };

        await _alertmanager.FireAsync(labels, new Dictionary<string, string> { ["work"] = work, ["summary"] = "Disk almost full on am-e2e" });
        var firingId = await AlertFromAlertmanagerAsync("firing");
        var firing = await _host.Http.SettledAlertAsync(firingId);
        var run = await _host.Http.EndedRunAsync(firing.Decisions().Single().RunId!);

        Assert.Equal("Started", firing.Outcome());
        Assert.Equal("Succeeded", run.Status());
        Assert.Equal([("clean", "Succeeded")], run.Steps().Select(s => (s.Name, s.Status)));
        Assert.Equal("DiskFull", File.ReadAllText(Path.Combine(work, "cleaned-am-e2e_9100")));

        await _alertmanager.ResolveAsync(labels);
        var resolutionId = await AlertFromAlertmanagerAsync("resolved");
        var resolution = await _host.Http.SettledAlertAsync(resolutionId);
        var (_, closed) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/alerts/{firingId}");

        Assert.Equal("Resolution", resolution.Outcome());
        var alert = closed.GetProperty("alert");
        Assert.True(alert.TryGetProperty("resolvedAt", out var resolvedAt), $"the firing alert has no resolution time: {alert}");
        Assert.True(resolvedAt.GetDateTimeOffset() >= alert.GetProperty("startsAt").GetDateTimeOffset());
        Assert.Equal(alert.GetProperty("fingerprint").GetString(), resolution.GetProperty("alert").GetProperty("fingerprint").GetString());
    }

    /// <summary>Waits until the host has stored an alert of that status from Alertmanager; returns its id.</summary>
    private async Task<string> AlertFromAlertmanagerAsync(string status)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(1);
        while (true)
        {
            var (_, page) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/alerts?source=alertmanager&status={status}");
            if (page.GetProperty("alerts").EnumerateArray().FirstOrDefault() is { ValueKind: System.Text.Json.JsonValueKind.Object } alert)
            {
                return alert.GetProperty("id").GetString()!;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"Alertmanager never delivered a {status} alert. Alertmanager log:\n{_alertmanager.Log}\nHost log:\n{_host.Host.Log}");
            await tick.WaitForNextTickAsync();
        }
    }
}
