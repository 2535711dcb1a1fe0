using System.Globalization;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Error budgets read from Debian's Prometheus 2.42, loaded with two hours of synthetic request counters through
/// <c>promtool tsdb create-blocks-from openmetrics</c>. Each service fails a constant share of its requests, so the SLI
/// over any window is exact and the figures can be worked out by hand: with a 99.9% objective, failing 0.05% of requests
/// leaves half the budget and burns at 0.5; failing 0.095% leaves 5% and burns at 0.95.
/// </summary>
public sealed class error_budgets_from_a_real_prometheus : IAsyncLifetime
{
    private PrometheusProcess _prometheus = null!;
    private HostWorkspace _host = null!;

    private HttpClient Http => _host.Http;

    public async Task InitializeAsync()
    {
        Assert.True(PrometheusProcess.IsInstalled, "prometheus is not installed: apt-get install -y prometheus (tests/run.sh does this)");
        _prometheus = await PrometheusProcess.StartAsync("global:\n  scrape_interval: 1m\n", history: SloHistory.Counters(TimeProvider.System.GetUtcNow(), ("checkout", 9_995), ("payments", 9_990.5)));
        try
        {
            _host = await HostWorkspace.StartAsync(
                new Dictionary<string, string>(Slos(_prometheus.Address.ToString()))
                {
                    ["RunbookEngine__Slos__2__Name"] = "checkout-by-ratio",
                    ["RunbookEngine__Slos__2__Objective"] = "99.9",
                    ["RunbookEngine__Slos__2__Window"] = "1d",
                    ["RunbookEngine__Slos__2__ErrorRatio"] = """1 - sum(rate(slo_good_requests_total{service="checkout"}[$window])) / sum(rate(slo_requests_total{service="checkout"}[$window]))""",
                },
                new Dictionary<string, string>
                {
                    ["restart-checkout"] = GatedRunbook("CheckoutFailing", "checkout"),
                    ["restart-payments"] = GatedRunbook("PaymentsFailing", "payments"),
                });
        }
        catch
        {
            await _prometheus.DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }

        await _prometheus.DisposeAsync();
    }

    [Fact]
    public async Task computes_the_sli_the_budget_left_and_the_burn_rate_a_hand_calculation_gives()
    {
        var slos = await KnownSlosAsync();

        var checkout = slos["checkout"];
        Assert.Equal(("checkout", 99.9, "1d", "ok"), (checkout.GetProperty("service").GetString(), checkout.GetProperty("objective").GetDouble(), checkout.GetProperty("window").GetString(), checkout.GetProperty("state").GetString()));
        Assert.Equal(99.95, checkout.GetProperty("sli").GetDouble(), 6);
        Assert.Equal(50, checkout.GetProperty("budgetRemainingPercent").GetDouble(), 6);
        Assert.Equal(0.5, checkout.GetProperty("burnRate").GetDouble(), 6);

        var payments = slos["payments"];
        Assert.Equal("low", payments.GetProperty("state").GetString());
        Assert.Equal(99.905, payments.GetProperty("sli").GetDouble(), 6);
        Assert.Equal(5, payments.GetProperty("budgetRemainingPercent").GetDouble(), 6);
        Assert.Equal(0.95, payments.GetProperty("burnRate").GetDouble(), 6);

        // One error-ratio query gives what the good/total pair gives.
        var byRatio = slos["checkout-by-ratio"];
        Assert.Equal(50, byRatio.GetProperty("budgetRemainingPercent").GetDouble(), 6);
        Assert.Equal(0.5, byRatio.GetProperty("burnRate").GetDouble(), 6);

        var metrics = await Http.GetStringAsync(new Uri("/metrics", UriKind.Relative));
        Assert.Equal(0.5, Gauge(metrics, "runbookengine_slo_budget_remaining_ratio", "checkout")!.Value, 6);
        Assert.Equal(0.95, Gauge(metrics, "runbookengine_slo_burn_rate", "payments")!.Value, 6);
        Assert.Equal(1, Gauge(metrics, "runbookengine_slo_known", "payments"));

        var page = await Http.GetStringAsync(new Uri("/slos", UriKind.Relative));
        Assert.Contains("""<tr data-slo="payments" data-state="low">""", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task lets_an_alert_started_run_act_while_the_budget_is_above_its_gate()
    {
        await KnownSlosAsync();
        var dir = Directory.CreateDirectory(Path.Combine(_host.Root, "checkout")).FullName;

        var alertId = (await Http.PostGenericAsync(new { name = "CheckoutFailing", fingerprint = "checkout-1", annotations = new { dir } })).Single();
        var runId = (await Http.SettledAlertAsync(alertId)).Decisions().Single().RunId!;
        var run = await Http.EndedRunAsync(runId);

        Assert.True(run.Status() == "Succeeded", $"{run}\nhost log:\n{_host.Host.Log}");
        Assert.Equal("acted", File.ReadAllText(Path.Combine(dir, "restarted")));
        var (_, runbook) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/restart-checkout");
        Assert.Equal("""{"slo":"checkout","belowPercent":10,"then":"confirm"}""", runbook.GetProperty("budgetGate").GetRawText());
        var gate = run.GetProperty("run").GetProperty("budgetGate");
        Assert.False(gate.GetProperty("gated").GetBoolean());
        Assert.Equal(("checkout", "ok", 10.0), (gate.GetProperty("slo").GetString(), gate.GetProperty("state").GetString(), gate.GetProperty("belowPercent").GetDouble()));
        Assert.Equal(50, gate.GetProperty("budgetRemainingPercent").GetDouble(), 6);
        Assert.Equal("Auto", run.GetProperty("run").GetProperty("mode").GetString());

        // The incident is credited with what the remediation saved: checkout burns at 0.5 at 99.9%, and the runbook beat
        // its 20 manual minutes by all but the seconds it took, so 0.5 × 0.001 × (20 − TTR).
        var (_, incident) = await Http.SendAsync(HttpMethod.Get, $"/api/incidents/{run.GetProperty("incidentId").GetString()}");
        var saved = incident.GetProperty("budgetSaved");
        Assert.True(saved.GetProperty("state").GetString() == "estimated", saved.ToString());
        Assert.Equal(("checkout", runId), (saved.GetProperty("slo").GetString(), saved.GetProperty("runId").GetString()));
        Assert.Equal(0.5, saved.GetProperty("burnRate").GetDouble(), 6);
        var ttr = saved.GetProperty("timeToRemediateMinutes").GetDouble();
        Assert.InRange(ttr, 0, 5);
        Assert.Equal(0.5 * 0.001 * (20 - ttr), saved.GetProperty("budgetMinutes").GetDouble(), 9);
    }

    [Fact]
    public async Task makes_an_alert_started_run_ask_first_while_the_budget_is_below_its_gate_and_records_why()
    {
        await KnownSlosAsync();
        var dir = Directory.CreateDirectory(Path.Combine(_host.Root, "payments")).FullName;

        var alertId = (await Http.PostGenericAsync(new { name = "PaymentsFailing", fingerprint = "payments-1", annotations = new { dir } })).Single();
        var runId = (await Http.SettledAlertAsync(alertId)).Decisions().Single().RunId!;
        var asked = await Http.WaitingStepAsync(runId, 1);
        var (_, run) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}");

        Assert.Equal("Approve: confirm mode: run step 'restart': restarts the service", asked.GetProperty("name").GetString());
        Assert.Empty(Directory.GetFiles(dir));
        var gate = run.GetProperty("run").GetProperty("budgetGate");
        Assert.True(gate.GetProperty("gated").GetBoolean());
        Assert.Equal(("payments", "low", "confirm"), (gate.GetProperty("slo").GetString(), gate.GetProperty("state").GetString(), gate.GetProperty("then").GetString()));
        Assert.Equal(5, gate.GetProperty("budgetRemainingPercent").GetDouble(), 6);
        Assert.Equal("5% of the error budget of payments is left, below the gate's 10%: the run acts as confirm", gate.GetProperty("reason").GetString());
        Assert.Equal("Confirm", run.GetProperty("run").GetProperty("mode").GetString());
        var page = await Http.GetStringAsync(new Uri($"/runs/{runId}", UriKind.Relative));
        Assert.Contains("""<dd id="budget-gate" data-gated="1">""", page, StringComparison.Ordinal);

        // A person who starts the same runbook by hand has decided to take the risk: not gated.
        var byHand = await Http.TriggerAsync("restart-payments", new { dir });
        var manual = await Http.EndedRunAsync(byHand);
        Assert.True(manual.Status() == "Succeeded", manual.ToString());
        Assert.False(manual.GetProperty("run").TryGetProperty("budgetGate", out _));

        var (approved, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/1/complete", new { by = "carol" });
        Assert.Equal(200, approved);
        Assert.Equal("Succeeded", (await Http.TerminalRunAsync(runId)).Status());
    }

    /// <summary>The SLOs once every one has been evaluated, by name.</summary>
    private async Task<Dictionary<string, JsonElement>> KnownSlosAsync()
    {
        var slos = await Http.UntilAsync(
            "/api/slos",
            body => body.GetProperty("slos").EnumerateArray().All(s => s.GetProperty("state").GetString() != "unknown") ? body.GetProperty("slos") : null,
            $"the SLOs were never evaluated.\nPrometheus log:\n{_prometheus.Log}");
        return slos.EnumerateArray().ToDictionary(s => s.GetProperty("name").GetString()!, s => s);
    }

    /// <summary>The SLOs of both services, on this Prometheus, over a day with the burn rate over an hour.</summary>
    internal static Dictionary<string, string> Slos(string prometheus)
    {
        var settings = new Dictionary<string, string>
        {
            ["RunbookEngine__Prometheus__Url"] = prometheus,
            ["RunbookEngine__Prometheus__EvaluationInterval"] = "00:00:05",
            ["RunbookEngine__Prometheus__Timeout"] = "00:00:02",
            ["RunbookEngine__Prometheus__BurnRateWindow"] = "01:00:00",
        };
        var i = 0;
        foreach (var service in new[] { "checkout", "payments" })
        {
            var at = $"RunbookEngine__Slos__{i++.ToString(CultureInfo.InvariantCulture)}__";
            settings[at + "Name"] = service;
            settings[at + "Service"] = service;
            settings[at + "Objective"] = "99.9";
            settings[at + "Window"] = "1d";
            settings[at + "Good"] = $$"""sum(rate(slo_good_requests_total{service="{{service}}"}[$window]))""";
            settings[at + "Total"] = $$"""sum(rate(slo_requests_total{service="{{service}}"}[$window]))""";
        }

        return settings;
    }

    /// <summary>A runbook whose one step has a side effect, started by <paramref name="alert"/> and gated at 10% of <paramref name="slo"/>.</summary>
    internal static string GatedRunbook(string alert, string slo) => $$"""
        // ---
        // description: Restarts the service, asking first when its error budget is low
        // alerts:
        //   - name: {{alert}}
        // budget_gate: { slo: {{slo}}, below: 10%, then: confirm }
        // parameters:
        //   dir: { type: string, required: true, from: annotations.dir }
        // manual_minutes: 20
        // ---
        var dir = Params.Get<string>("dir");
        await Step("restart", ct => File.WriteAllTextAsync(Path.Combine(dir, "restarted"), "acted", ct), sideEffects: true, description: "restarts the service");
        """;

    /// <summary>A gauge's value for one SLO in the text exposition, or null when the series is absent.</summary>
    internal static double? Gauge(string metrics, string name, string slo)
    {
        var prefix = $"{name}{{slo=\"{slo}\",";
        var line = metrics.Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line is null ? null : double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
    }
}
