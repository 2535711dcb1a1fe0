using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Our dashboard and Hangfire's at /hangfire on one real host, in Debian's chromium: each links to the other, and
/// Hangfire's is behind the same access as ours, read-only for a trusted loopback caller with no token.
/// </summary>
public sealed class both_dashboards_in_a_browser : IAsyncLifetime
{
    // Yearly, so it fires only when someone triggers it.
    private const string Nightly = """
        // ---
        // description: A scheduled report, for the recurring jobs page
        // schedule: "0 3 1 1 *"
        // ---
        await Step("report", ct => Task.CompletedTask);
        """;

    private Browser _chromium = null!;

    public async Task InitializeAsync() => _chromium = await Browser.LaunchAsync();

    public async Task DisposeAsync() => await _chromium.DisposeAsync();

    [Fact]
    public async Task a_runs_job_and_its_page_link_to_each_other_and_a_loopback_caller_sees_hangfire_read_only()
    {
        await using var host = await HostWorkspace.StartAsync(extraRunbooks: new Dictionary<string, string> { ["nightly"] = Nightly });
        var runId = await host.Http.TriggerAsync("hello", new { who = "both dashboards" });
        Assert.Equal("Succeeded", (await host.Http.TerminalRunAsync(runId)).Status());
        var page = await _chromium.NewPageAsync(host.Host.Address);

        // Hangfire lists the job by its runbook and run id, and the job's page links to the run's page in ours.
        await page.GotoAsync("/hangfire/jobs/succeeded");
        await page.GetByText($"hello · run {runId}").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hangfire/jobs/details/[0-9]+$"));
        var jobUrl = page.Url;
        await page.Locator("#runbookengine-run").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex($"/runs/{runId}$"));
        await Expect(page.Locator("#status")).ToContainTextAsync("Succeeded");

        // And back: our run page names the job that ran it.
        await page.Locator("#hangfire-job").ClickAsync();
        await Expect(page).ToHaveURLAsync(jobUrl);

        // The schedule is a recurring job; without a token, nothing on the page can change it.
        await page.GotoAsync("/hangfire/recurring");
        await Expect(page.Locator("table")).ToContainTextAsync("nightly");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Trigger now" })).ToHaveCountAsync(0);
        // Even the page's own request, with its anti-forgery token, is refused.
        var header = await page.Locator("meta[name=csrf-header]").GetAttributeAsync("content");
        var token = await page.Locator("meta[name=csrf-token]").GetAttributeAsync("content");
        var trigger = await page.APIRequest.PostAsync("/hangfire/recurring/trigger", new APIRequestContextOptions
        {
            Form = Form(page, ("jobs[]", "nightly")),
            Headers = new Dictionary<string, string> { [header!] = token! },
        });
        Assert.Equal(401, trigger.Status);
        Assert.Equal(0, (await host.Http.SendAsync(HttpMethod.Get, "/api/runs?runbook=nightly")).Body.GetProperty("runs").GetArrayLength());
    }

    [Fact]
    public async Task hangfire_asks_for_a_sign_in_and_trigger_now_starts_a_recorded_scheduled_run()
    {
        await using var host = await HostWorkspace.StartAsync(
            new Dictionary<string, string>
            {
                ["RunbookEngine__Access__TrustLoopback"] = "false",
                ["RunbookEngine__Access__Tokens__ops"] = "s3cret-token",
            },
            new Dictionary<string, string> { ["nightly"] = Nightly });
        var page = await _chromium.NewPageAsync(host.Host.Address);

        await page.GotoAsync("/hangfire/recurring");
        await Expect(page).ToHaveURLAsync(new Regex(@"/signin\?return=%2Fhangfire%2Frecurring$"));
        await page.Locator("input[name=token]").FillAsync("s3cret-token");
        await page.Locator("form button[type=submit]").ClickAsync();
        await Expect(page).ToHaveURLAsync(new Regex("/hangfire/recurring$"));

        await page.Locator("input.js-jobs-list-checkbox[value='nightly']").CheckAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Trigger now" }).ClickAsync();

        using var api = new HttpClient { BaseAddress = host.Host.Address };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "s3cret-token");
        var run = await api.UntilAsync(
            "/api/runs?runbook=nightly",
            list => list.GetProperty("runs").EnumerateArray().FirstOrDefault() is { ValueKind: System.Text.Json.JsonValueKind.Object } found && found.GetProperty("status").GetString() == "Succeeded" ? found : null,
            "trigger now started no run");
        Assert.Equal("Schedule", run.GetProperty("trigger").GetString());
        Assert.StartsWith("schedule@", run.GetProperty("triggeredBy").GetString(), StringComparison.Ordinal);
    }

    private static IFormData Form(IPage page, params (string Name, string Value)[] fields)
    {
        var form = page.APIRequest.CreateFormData();
        foreach (var (name, value) in fields)
        {
            form.Append(name, value);
        }

        return form;
    }
}
