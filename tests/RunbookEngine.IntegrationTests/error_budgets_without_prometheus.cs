using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>An SLO whose Prometheus does not answer: unknown everywhere, and a gated run asks first.</summary>
public sealed class error_budgets_without_prometheus : IAsyncLifetime
{
    private HostWorkspace _host = null!;

    public async Task InitializeAsync() => _host = await HostWorkspace.StartAsync(
        // Port 1 (tcpmux) is never served on a test machine; a free port might be taken by the time it is asked.
        error_budgets_from_a_real_prometheus.Slos("http://127.0.0.1:1/"),
        new Dictionary<string, string>
        {
            ["restart-checkout"] = error_budgets_from_a_real_prometheus.GatedRunbook("CheckoutFailing", "checkout"),
            ["restart-misspelt"] = error_budgets_from_a_real_prometheus.GatedRunbook("MisspeltFailing", "chekout"),
        });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Fact]
    public async Task refuses_a_runbook_gated_on_an_slo_the_host_does_not_have()
    {
        var (status, runbook) = await _host.Http.SendAsync(HttpMethod.Get, "/api/runbooks/restart-misspelt");

        Assert.Equal(200, status);
        Assert.False(runbook.GetProperty("valid").GetBoolean(), runbook.ToString());
        Assert.Contains(
            runbook.GetProperty("errors").EnumerateArray().Select(e => e.GetString()),
            e => e!.EndsWith(":5: `budget_gate.slo`: no SLO 'chekout' is configured on this host; name one configured under RunbookEngine:Slos", StringComparison.Ordinal));
    }

    [Fact]
    public async Task shows_the_budget_as_unknown_and_makes_a_gated_run_ask_first()
    {
        var checkout = await _host.Http.UntilAsync(
            "/api/slos",
            body => body.GetProperty("slos").EnumerateArray().Single(s => s.GetProperty("name").GetString() == "checkout") is var slo
                && slo.TryGetProperty("evaluatedAt", out _) ? slo : null,
            "the SLO was never evaluated");

        Assert.Equal("unknown", checkout.GetProperty("state").GetString());
        Assert.StartsWith("Prometheus at http://127.0.0.1:", checkout.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("could not be reached", checkout.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.False(checkout.TryGetProperty("budgetRemainingPercent", out _));

        var metrics = await _host.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(0, error_budgets_from_a_real_prometheus.Gauge(metrics, "runbookengine_slo_known", "checkout"));
        Assert.Null(error_budgets_from_a_real_prometheus.Gauge(metrics, "runbookengine_slo_budget_remaining_ratio", "checkout"));
        Assert.Null(error_budgets_from_a_real_prometheus.Gauge(metrics, "runbookengine_slo_burn_rate", "checkout"));

        var dir = Directory.CreateDirectory(Path.Combine(_host.Root, "checkout")).FullName;
        var alertId = (await _host.Http.PostGenericAsync(new { name = "CheckoutFailing", fingerprint = "checkout-1", annotations = new { dir } })).Single();
        var runId = (await _host.Http.SettledAlertAsync(alertId)).Decisions().Single().RunId!;
        await _host.Http.WaitingStepAsync(runId, 1);
        var (_, run) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");

        Assert.Empty(Directory.GetFiles(dir));
        var gate = run.GetProperty("run").GetProperty("budgetGate");
        Assert.True(gate.GetProperty("gated").GetBoolean());
        Assert.Equal("unknown", gate.GetProperty("state").GetString());
        Assert.StartsWith("the error budget of checkout is unknown (Prometheus at http://127.0.0.1:", gate.GetProperty("reason").GetString(), StringComparison.Ordinal);

        // A retry of the waiting run is not a way around the gate: it asks first too.
        var (retried, retry) = await _host.Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/retry");
        Assert.Equal(202, retried);
        var retryId = retry.GetProperty("runId").GetString()!;
        await _host.Http.WaitingStepAsync(retryId, 1);
        var (_, retryRun) = await _host.Http.SendAsync(HttpMethod.Get, $"/api/runs/{retryId}");

        Assert.Empty(Directory.GetFiles(dir));
        Assert.True(retryRun.GetProperty("run").GetProperty("budgetGate").GetProperty("gated").GetBoolean(), retryRun.ToString());
    }
}
