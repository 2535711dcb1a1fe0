using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// The dashboard as a person uses it: Debian's chromium, driven by Playwright, against a real host on SQLite. The class
/// shares one host and one browser, so each test makes its own runs and picks them out by id or by a name of its own;
/// each page gets a browser context of its own, with no cookies yet.
/// </summary>
public sealed partial class the_dashboard_in_a_browser(the_dashboard_in_a_browser.Fixture fixture) : IClassFixture<the_dashboard_in_a_browser.Fixture>
{
    private HostWorkspace Workspace => fixture.Workspace;

    private HttpClient Http => fixture.Workspace.Http;

    private Task<IPage> NewPageAsync() => fixture.Chromium.NewPageAsync(Workspace.Host.Address);

    [Fact]
    public async Task a_run_started_from_its_runbook_page_shows_its_steps_as_they_happen()
    {
        // The paced runbook holds each step until the test opens its gate, so every step is seen running.
        var gate = Directory.CreateDirectory(Path.Combine(Workspace.Root, "gate-" + Guid.NewGuid().ToString("N"))).FullName;
        var page = await NewPageAsync();
        await page.GotoAsync("/runbooks/paced");

        var start = page.Locator("form#start");
        await start.Locator("input[name='p.who']").FillAsync("ada");
        await start.Locator("input[name='p.gate']").FillAsync(gate);
        await start.Locator("input[name=by]").FillAsync("grace");
        await start.Locator("button[type=submit]").ClickAsync();

        await Expect(page).ToHaveURLAsync(RunPath());
        var runId = page.Url.Split('/')[^1];
        var steps = page.Locator("#live .step");
        for (var step = 1; step <= 3; step++)
        {
            // Nothing reloads the page here: what it shows comes from its own live refresh.
            await Expect(steps).ToHaveCountAsync(step);
            await Expect(page.Locator($"#step-{step}")).ToHaveAttributeAsync("data-status", "Running");
            await Expect(page.Locator("#status")).ToContainTextAsync("Running");
            File.WriteAllText(Path.Combine(gate, step.ToString(CultureInfo.InvariantCulture)), "");
        }

        await Expect(page.Locator("#status")).ToContainTextAsync("Succeeded");
        await Expect(page.Locator(".step[data-status=Succeeded]")).ToHaveCountAsync(3);
        await Expect(page.Locator("#step-3 pre")).ToContainTextAsync("hello, ada");
        await Expect(page.Locator("#facts")).ToContainTextAsync("Manual, grace");
        await Expect(page.Locator("#parameters")).ToContainTextAsync("ada");

        var run = await Http.TerminalRunAsync(runId);
        Assert.Equal(("Succeeded", "grace"), (run.Status(), run.GetProperty("run").GetProperty("triggeredBy").GetString()));
    }

    [Fact]
    public async Task a_run_opened_from_the_runs_list_shows_its_timeline_and_the_output_of_its_steps()
    {
        var who = "list-" + Guid.NewGuid().ToString("N")[..8];
        var runId = await Http.TriggerAsync("hello", new { who, times = 2 });
        Assert.Equal("Succeeded", (await Http.TerminalRunAsync(runId)).Status());
        var page = await NewPageAsync();
        await page.GotoAsync("/");

        await page.Locator($"#runs tr[data-run='{runId}'] a[href='/runs/{runId}']").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"/runs/{runId}$"));
        await Expect(page.Locator("h1")).ToContainTextAsync("of hello");
        await Expect(page.Locator("svg#timeline")).ToBeVisibleAsync();
        await Expect(page.Locator("svg#timeline rect")).ToHaveCountAsync(2);
        await Expect(page.Locator("svg#timeline")).ToContainTextAsync("2. say it");
        await Expect(page.Locator("#step-2")).ToHaveAttributeAsync("data-status", "Succeeded");
        await Expect(page.Locator("#step-2 pre")).ToHaveTextAsync($"hello, {who}\nhello, {who}\n");
        await Expect(page.Locator("#live")).ToHaveAttributeAsync("data-terminal", "1");
    }

    [Fact]
    public async Task approving_a_waiting_step_in_its_page_lets_the_run_finish_and_shows_who_approved()
    {
        var runId = await Http.TriggerAsync("approval", new { });
        await Http.WaitingStepAsync(runId, 1);
        var page = await NewPageAsync();
        await page.GotoAsync($"/runs/{runId}");

        var answer = page.Locator("#step-1 form.answer");
        await answer.Locator("input[name=by]").FillAsync("margaret");
        await answer.Locator("input[name=comment]").FillAsync("checked the dashboards");
        var posted = await page.RunAndWaitForResponseAsync(
            () => answer.Locator("button[value=complete]").ClickAsync(), response => response.Url.EndsWith($"/runs/{runId}/steps/1/complete", StringComparison.Ordinal));

        if (posted.Status != 302)
        {
            Assert.Fail($"approving answered {posted.Status}: {await posted.TextAsync()}");
        }

        await Expect(page.Locator("p.notice")).ToContainTextAsync("step 1 completed");
        await Expect(page.Locator("#status")).ToContainTextAsync("Succeeded");
        await Expect(page.Locator("#step-1")).ToHaveAttributeAsync("data-status", "Succeeded");
        await Expect(page.Locator("#step-1")).ToContainTextAsync("by margaret");
        await Expect(page.Locator("#step-1")).ToContainTextAsync("“checked the dashboards”");
        await Expect(page.Locator("form.answer")).ToHaveCountAsync(0);
        await Expect(page.Locator("#step-2")).ToHaveAttributeAsync("data-status", "Succeeded");

        var run = await Http.TerminalRunAsync(runId);
        var approval = run.GetProperty("steps")[0];
        Assert.Equal(("Succeeded", "margaret"), (run.Status(), approval.GetProperty("actor").GetString()));
    }

    [Fact]
    public async Task a_runbook_that_does_not_compile_shows_its_errors_and_is_marked_invalid()
    {
        var page = await NewPageAsync();

        await page.GotoAsync("/runbooks/broken");
        await Expect(page.Locator("#errors")).ToContainTextAsync("The name 'undefinedName' does not exist in the current context");
        await Expect(page.Locator("#validity")).ToHaveTextAsync("invalid");
        await Expect(page.Locator("form#start")).ToHaveCountAsync(0);

        await page.GotoAsync("/runbooks");
        await Expect(page.Locator("#runbooks tr[data-runbook=broken]")).ToContainTextAsync("invalid");
        await Expect(page.Locator("#runbooks tr[data-runbook=hello]")).ToContainTextAsync("valid");
        await Expect(page.Locator("#runbooks tr[data-runbook=hello]")).Not.ToContainTextAsync("invalid");
    }

    [Fact]
    public async Task filtering_runs_by_runbook_and_by_text_leaves_only_the_runs_that_match()
    {
        var who = "filter-" + Guid.NewGuid().ToString("N")[..8];
        var hello = await Http.TriggerAsync("hello", new { who });
        var other = await Http.TriggerAsync("hello", new { who = "someone-else" });
        var approval = await Http.TriggerAsync("approval", new { });
        await Http.TerminalRunAsync(hello);
        await Http.TerminalRunAsync(other);
        var page = await NewPageAsync();
        await page.GotoAsync("/");
        var rows = page.Locator("#runs tbody tr[data-run]");
        foreach (var id in new[] { hello, other, approval })
        {
            await Expect(page.Locator($"#runs tr[data-run='{id}']")).ToHaveCountAsync(1);
        }

        var filters = page.Locator("form.filters");
        await filters.Locator("select[name=runbook]").SelectOptionAsync("approval");
        await filters.Locator("button[type=submit]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex(@"[?&]runbook=approval(&|$)"));
        await Expect(page.Locator($"#runs tr[data-run='{approval}']")).ToHaveCountAsync(1);
        await Expect(rows.Filter(new LocatorFilterOptions { HasNot = page.Locator("a[href='/runbooks/approval']") })).ToHaveCountAsync(0);

        await filters.Locator("select[name=runbook]").SelectOptionAsync("");
        await filters.Locator("input[name=q]").FillAsync(who);
        await filters.Locator("button[type=submit]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex($"[?&]q={who}(&|$)"));
        await Expect(rows).ToHaveCountAsync(1);
        await Expect(page.Locator($"#runs tr[data-run='{hello}']")).ToHaveCountAsync(1);
        await Expect(page.Locator("form.filters input[name=q]")).ToHaveValueAsync(who);

        await filters.Locator("select[name=runbook]").SelectOptionAsync("approval");
        await filters.Locator("button[type=submit]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex(@"[?&]runbook=approval(&|$)"));
        await Expect(rows).ToHaveCountAsync(0);
        await Expect(page.Locator("#runs")).ToContainTextAsync("No runs match.");
    }

    [Fact]
    public async Task without_trusted_loopback_a_caller_needs_a_token_and_a_form_needs_its_anti_forgery_field()
    {
        await using var guarded = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Access__TrustLoopback"] = "false",
            ["RunbookEngine__Access__Tokens__ops"] = "s3cret-token",
        });

        var (anonymous, refusal) = await guarded.Http.SendAsync(HttpMethod.Get, "/api/runs");
        using var withToken = new HttpRequestMessage(HttpMethod.Get, "/api/runs") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token") } };
        using var answered = await guarded.Http.SendAsync(withToken);
        Assert.Equal((401, HttpStatusCode.OK), (anonymous, answered.StatusCode));
        Assert.Contains("Authorization: Bearer", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);

        var page = await fixture.Chromium.NewPageAsync(guarded.Host.Address);
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Regex(@"/signin\?return=%2F$"));
        await page.Locator("input[name=token]").FillAsync("s3cret-token");
        await page.Locator("form button[type=submit]").ClickAsync();

        await Expect(page).ToHaveURLAsync(new Regex(@"^[^?]+/$"));
        await Expect(page.Locator("header .who")).ToHaveTextAsync("signed in as ops");
        await Expect(page.Locator("#runs")).ToBeVisibleAsync();

        // Signed in, a person acts under the token's name: the form asks for no name.
        await page.GotoAsync("/runbooks/hello");
        await Expect(page.Locator("form#start input[name=by]")).ToHaveCountAsync(0);
        await page.Locator("form#start input[name='p.who']").FillAsync("from afar");
        await page.Locator("form#start button[type=submit]").ClickAsync();
        await Expect(page).ToHaveURLAsync(RunPath());
        await Expect(page.Locator("#facts")).ToContainTextAsync("Manual, ops");

        // The same post with the sign-in cookie but without the form's anti-forgery field, as another site could make it.
        var form = page.APIRequest.CreateFormData();
        form.Set("p.who", "forged");
        var forged = await page.APIRequest.PostAsync("/runbooks/hello/start", new APIRequestContextOptions { Form = form, MaxRedirects = 0 });
        Assert.Equal(403, forged.Status);
        Assert.Contains("anti-forgery", await forged.TextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_runs_a_run_the_runbooks_and_the_toil_pages_show_what_happened_and_are_pictured_for_the_docs()
    {
        // Something of everything: runs by hand, by the API and by an alert; one failed; an approval answered with a
        // comment; one still waiting; and alerts no runbook handles, for "what to automate next".
        var ended = new List<string>
        {
            await Http.TriggerAsync("hello", new { who = "world", times = 2 }),
            await Http.TriggerAsync("paced", new { who = "the docs" }),
            await Http.TriggerAsync("gated", new { wait = "1s" }),
        };
        var gated = await Http.TriggerAsync("gated", new { });
        await Http.WaitingStepAsync(gated, 2);
        var (answered, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{gated}/steps/2/complete", new { by = "carol", comment = "change window is open" });
        Assert.Equal(200, answered);
        ended.Add(gated);
        var alert = await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name = "DiskFull", labels = new { instance = "db-7:9100", severity = "critical" } })).Single());
        ended.Add(alert.Decisions().Single().RunId!);
        foreach (var (name, fingerprint) in new[] { ("CertificateExpiresSoon", "cert-1"), ("QueueBacklog", "queue-1"), ("CertificateExpiresSoon", "cert-2") })
        {
            await Http.SettledAlertAsync((await Http.PostGenericAsync(new { name, fingerprint })).Single());
        }

        var statuses = new List<string>();
        foreach (var id in ended)
        {
            statuses.Add((await Http.TerminalRunAsync(id)).Status());
        }

        Assert.Equal(["Succeeded", "Succeeded", "Failed", "Succeeded", "Succeeded"], statuses);
        var waiting = await Http.TriggerAsync("approval", new { });
        await Http.WaitingStepAsync(waiting, 1);
        var page = await NewPageAsync();

        await page.GotoAsync("/");
        foreach (var id in ended.Append(waiting))
        {
            await Expect(page.Locator($"#runs tr[data-run='{id}']")).ToHaveCountAsync(1);
        }

        await Expect(page.Locator($"#runs tr[data-run='{waiting}']")).ToContainTextAsync("WaitingForHuman");
        await Expect(page.Locator($"#runs tr[data-run='{ended[2]}']")).ToContainTextAsync("nobody answered within 1s");
        await Browser.ScreenshotAsync(page, "runs.png");

        await page.GotoAsync($"/runs/{gated}");
        await Expect(page.Locator(".step[data-status=Succeeded]")).ToHaveCountAsync(3);
        await Expect(page.Locator("#step-2")).ToContainTextAsync("by carol");
        await Expect(page.Locator("#step-2")).ToContainTextAsync("needs role lead");
        await Expect(page.Locator("svg#timeline rect")).ToHaveCountAsync(3);
        await Browser.ScreenshotAsync(page, "run-detail.png");

        await page.GotoAsync("/runbooks");
        await Expect(page.Locator("#runbooks tr[data-runbook=on-disk-full]")).ToContainTextAsync("alert DiskFull");
        await Expect(page.Locator("#runbooks tr[data-runbook=gated] a[href^='/runs/']")).Not.ToHaveCountAsync(0);
        await Browser.ScreenshotAsync(page, "runbooks.png");

        await page.GotoAsync("/toil");
        await Expect(page.Locator("svg#weekly rect")).Not.ToHaveCountAsync(0);
        await Expect(page.Locator("svg#per-runbook")).ToContainTextAsync("gated");
        await Expect(page.Locator("#toil-runbooks")).ToContainTextAsync("paced");
        await Expect(page.Locator("table#automate-next")).ToContainTextAsync("CertificateExpiresSoon");
        await Browser.ScreenshotAsync(page, "toil.png");
    }

    /// <summary>A run's page, as the start form redirects to it.</summary>
    [GeneratedRegex("/runs/[^/?#]+$")]
    private static partial Regex RunPath();

    public sealed class Fixture : IAsyncLifetime
    {
        internal HostWorkspace Workspace { get; private set; } = null!;

        internal Browser Chromium { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            // The browser first: it is what fails on a machine without chromium, and xunit never disposes a fixture whose
            // InitializeAsync threw, so a host started before it would be left running.
            Chromium = await Browser.LaunchAsync();
            try
            {
                Workspace = await HostWorkspace.StartAsync(new Dictionary<string, string> { ["RunbookEngine__Roles__lead__0"] = "carol" });
            }
            catch
            {
                await Chromium.DisposeAsync();
                throw;
            }
        }

        public async Task DisposeAsync()
        {
            await Chromium.DisposeAsync();
            await Workspace.DisposeAsync();
        }
    }
}
