using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Modes in the host: a shadow runbook runs what only reads and proposes the rest, a person judges the proposal, a
/// confirm runbook waits for approval before its first side effect, and the record suggests (never makes) a promotion.
/// </summary>
public sealed partial class runbooks_that_earn_trust : IAsyncLifetime
{
    private readonly SentinelServer _server = new();
    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync(
        new Dictionary<string, string>
        {
            ["RunbookEngine__Roles__lead__0"] = "carol",
            ["RunbookEngine__Trust__ShadowToConfirmAfter"] = "2",
            ["RunbookEngine__Trust__ConfirmToAutoAfter"] = "1",
        },
        new Dictionary<string, string>
        {
            ["shadow-in-process"] = Shadow("ShadowSentinel", isolated: false),
            ["shadow-in-a-process"] = Shadow("IsolatedShadowSentinel", isolated: true),
            ["confirm-sentinel"] = Confirm,
        });

    public async Task DisposeAsync()
    {
        await _workspace.DisposeAsync();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("shadow-in-process", "ShadowSentinel")]
    [InlineData("shadow-in-a-process", "IsolatedShadowSentinel")]
    public async Task a_shadow_runbook_proposes_its_first_side_effect_and_does_none_of_them_whether_an_alert_or_a_person_starts_it(string runbook, string alert)
    {
        var byAlert = Directory.CreateDirectory(Path.Combine(_workspace.Root, "by-alert")).FullName;
        var ids = await Http.PostGenericAsync(new { name = alert, fingerprint = "shadow-1", annotations = new { dir = byAlert, url = _server.Address.ToString() } });
        var alerted = (await Http.SettledAlertAsync(ids.Single())).Decisions().Single().RunId!;
        var started = new Dictionary<string, string>();
        foreach (var way in new[] { "shell", "post" })
        {
            var dir = Directory.CreateDirectory(Path.Combine(_workspace.Root, "by-hand-" + way)).FullName;
            started[way] = await Http.TriggerAsync(runbook, new { dir, way, url = _server.Address.ToString() });
        }

        var step = await Http.EndedRunAsync(alerted);
        var shell = await Http.EndedRunAsync(started["shell"]);
        var post = await Http.EndedRunAsync(started["post"]);

        Assert.All(new[] { step, shell, post }, run => Assert.True(run.Status() == "Proposed", $"{run}\nhost log:\n{_workspace.Host.Log}"));
        Assert.All(new[] { step, shell, post }, run => Assert.Equal("Shadow", run.GetProperty("run").GetProperty("mode").GetString()));
        Assert.Equal(("leave the sentinel", "writes the sentinel file", "step"), Proposal(step));
        Assert.Equal(byAlert, step.GetProperty("run").GetProperty("proposal").GetProperty("parameters").GetProperty("dir").GetString());
        Assert.Equal(("touch the sentinel", "command"), (Proposal(shell).Step, Proposal(shell).Action));
        Assert.Equal($"touch {Path.Combine(_workspace.Root, "by-hand-shell", "sentinel")}", shell.GetProperty("run").GetProperty("proposal").GetProperty("detail").GetString());
        Assert.Equal(("http", $"POST {_server.Address}sentinel"), (Proposal(post).Action, post.GetProperty("run").GetProperty("proposal").GetProperty("detail").GetString()));
        Assert.Equal([("look", "Succeeded"), ("leave the sentinel", "Skipped")], step.Steps().Select(s => (s.Name, s.Status)));

        // THE SENTINEL: nothing that is not declared read-only ran, by any of the three ways, nor anything after them.
        Assert.Empty(Directory.GetFiles(byAlert));
        Assert.Empty(Directory.GetFiles(Path.Combine(_workspace.Root, "by-hand-shell")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_workspace.Root, "by-hand-post")));
        Assert.Equal(["GET /health", "GET /health", "GET /health"], _server.Seen.Order());
        Assert.False(_server.Acted);
    }

    [Fact]
    public async Task a_verdict_given_through_the_api_the_cli_or_the_dashboard_builds_the_record_that_suggests_confirm()
    {
        var first = await ProposedAsync("first");
        var secondDir = Directory.CreateDirectory(Path.Combine(_workspace.Root, "second")).FullName;
        var (triggerExit, triggerOutput) = await the_cli_against_a_host.RunCliAsync(
            "trigger", "shadow-in-process", "-p", $"dir={secondDir}", "-p", $"url={_server.Address}", "--wait", "--server", _workspace.Host.Address.ToString());
        Assert.True(triggerExit == 0, triggerOutput);
        var second = QueuedRun().Match(triggerOutput).Groups["id"].Value;
        Assert.Contains("Proposed: would step 'leave the sentinel'; no verdict yet", triggerOutput, StringComparison.Ordinal);
        Assert.Contains($"give a verdict: runbook verdict {second} right|wrong", triggerOutput, StringComparison.Ordinal);
        var (_, before) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/shadow-in-process");

        var (apiStatus, api) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{first}/verdict", new { right = true, by = "bob", comment = "that is what I would have done" });
        var (cliExit, cliOutput) = await the_cli_against_a_host.RunCliAsync("verdict", second, "right", "--comment", "yes", "--by", "dana", "--server", _workspace.Host.Address.ToString());
        var (_, entry) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/shadow-in-process");
        var (_, list) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks");
        var run = await Http.EndedRunAsync(first);

        Assert.Equal(200, apiStatus);
        Assert.Equal((true, "bob"), (api.GetProperty("verdict").GetProperty("right").GetBoolean(), api.GetProperty("verdict").GetProperty("by").GetString()));
        Assert.True(cliExit == 0, cliOutput);
        Assert.Contains("proposing 'leave the sentinel' would have been right, says dana", cliOutput, StringComparison.Ordinal);
        Assert.Equal(("bob", "that is what I would have done"), (run.GetProperty("run").GetProperty("verdict").GetProperty("by").GetString(), run.GetProperty("run").GetProperty("verdict").GetProperty("comment").GetString()));
        Assert.False(before.GetProperty("trust").TryGetProperty("suggestion", out _));
        var trust = entry.GetProperty("trust");
        Assert.Equal(("Shadow", "Shadow"), (entry.GetProperty("mode").GetString(), trust.GetProperty("mode").GetString()));
        Assert.Equal((2, 2, 0, 0), Counts(trust.GetProperty("shadow"), "proposals", "agreed", "disagreed", "awaitingVerdict"));
        Assert.Equal("2 proposals, 2 agreed: consider `confirm`", trust.GetProperty("suggestion").GetString());
        Assert.Equal([second, first], trust.GetProperty("latest").EnumerateArray().Select(p => p.GetProperty("runId").GetString()));
        Assert.Equal("2 proposals, 2 agreed: consider `confirm`", list.EnumerateArray().Single(r => r.GetProperty("name").GetString() == "shadow-in-process").GetProperty("trust").GetProperty("suggestion").GetString());

        // The dashboard shows the proposal and takes a verdict through its form, which replaces the one before.
        var page = await Http.GetStringAsync($"/runs/{first}");
        var form = VerdictForm().Match(page);
        Assert.True(form.Success, page);
        Assert.Contains("leave the sentinel", page, StringComparison.Ordinal);
        using var posted = await Http.PostAsync($"/runs/{first}/verdict", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [form.Groups["field"].Value] = WebUtility.HtmlDecode(form.Groups["token"].Value),
            ["by"] = "erin",
            ["verdict"] = "wrong",
            ["comment"] = "the newest one was corrupt",
        }));
        var judged = await Http.EndedRunAsync(first);
        var runbookPage = await Http.GetStringAsync("/runbooks/shadow-in-process");
        var (_, after) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/shadow-in-process");

        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        Assert.Equal((false, "erin"), (judged.GetProperty("run").GetProperty("verdict").GetProperty("right").GetBoolean(), judged.GetProperty("run").GetProperty("verdict").GetProperty("by").GetString()));
        Assert.Equal((2, 1, 1, 0), Counts(after.GetProperty("trust").GetProperty("shadow"), "proposals", "agreed", "disagreed", "awaitingVerdict"));
        Assert.False(after.GetProperty("trust").TryGetProperty("suggestion", out _));
        Assert.Contains("2 proposals · 1 agreed · 1 disagreed · 0 awaiting a verdict", runbookPage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_verdict_is_refused_for_a_run_that_proposed_nothing_or_a_body_that_says_nothing()
    {
        var hello = await Http.TriggerAsync("hello", new { who = "verdicts" });
        await Http.EndedRunAsync(hello);
        var proposed = await ProposedAsync("refusals");

        var (succeeded, notProposed) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{hello}/verdict", new { right = true, by = "bob" });
        var (missing, _) = await Http.SendAsync(HttpMethod.Post, "/api/runs/no-such-run/verdict", new { right = true, by = "bob" });
        var (text, notBool) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{proposed}/verdict", new { right = "yes" });
        var (empty, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{proposed}/verdict");
        var (nobody, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{proposed}/verdict", new { right = true, by = " " });
        var (cliExit, cliOutput) = await the_cli_against_a_host.RunCliAsync("verdict", hello, "wrong", "--server", _workspace.Host.Address.ToString());
        var (badWord, badWordOutput) = await the_cli_against_a_host.RunCliAsync("verdict", proposed, "maybe", "--server", _workspace.Host.Address.ToString());
        var run = await Http.EndedRunAsync(proposed);

        Assert.Equal((409, 404, 400, 400, 400), (succeeded, missing, text, empty, nobody));
        Assert.Contains("is Succeeded, not Proposed", notProposed.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Contains("\"right\" must be true", notBool.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, cliExit);
        Assert.Contains("409", cliOutput, StringComparison.Ordinal);
        Assert.Equal(2, badWord);
        Assert.Contains("maybe", badWordOutput, StringComparison.Ordinal);
        Assert.False(run.GetProperty("run").TryGetProperty("verdict", out _));
    }

    [Fact]
    public async Task a_confirm_runbook_waits_for_a_lead_before_its_side_effect_through_a_restart_and_a_rejection_leaves_it_undone()
    {
        var approvedDir = Directory.CreateDirectory(Path.Combine(_workspace.Root, "approved")).FullName;
        var approved = await Http.TriggerAsync("confirm-sentinel", new { dir = approvedDir });
        var asked = await Http.WaitingStepAsync(approved, 2);
        Assert.Empty(Directory.GetFiles(approvedDir));

        var (outsider, refusal) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{approved}/steps/2/complete", new { by = "dave" });
        await _workspace.RestartAsync();
        var (_, afterRestart) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{approved}");
        var (approve, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{approved}/steps/2/complete", new { by = "carol" });
        var done = await Http.TerminalRunAsync(approved);

        Assert.Equal("Approve: confirm mode: run step 'leave the sentinel': writes the sentinel file", asked.GetProperty("name").GetString());
        Assert.Equal(("lead", "Approval"), (asked.GetProperty("role").GetString(), asked.GetProperty("kind").GetString()));
        Assert.Equal((403, 200), (outsider, approve));
        Assert.Contains("role 'lead'", refusal.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal("WaitingForHuman", afterRestart.Status());
        Assert.True(done.Status() == "Succeeded", $"{done}\nhost log:\n{_workspace.Host.Log}");
        Assert.Equal([("look", "Succeeded"), (asked.GetProperty("name").GetString()!, "Succeeded"), ("leave the sentinel", "Succeeded")], done.Steps().Select(s => (s.Name, s.Status)));
        Assert.Equal("acted", File.ReadAllText(Path.Combine(approvedDir, "sentinel")));

        // A confirmation costs a person what the front matter says (confirm.manual_minutes: 3), like any approval.
        Assert.Equal((15.0, 3.0, 12.0), (done.GetProperty("toil").GetProperty("baselineMinutes").GetDouble(), done.GetProperty("toil").GetProperty("humanMinutes").GetDouble(), done.GetProperty("toil").GetProperty("savedMinutes").GetDouble()));

        var rejectedDir = Directory.CreateDirectory(Path.Combine(_workspace.Root, "rejected")).FullName;
        var rejected = await Http.TriggerAsync("confirm-sentinel", new { dir = rejectedDir });
        await Http.WaitingStepAsync(rejected, 2);
        var (reject, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{rejected}/steps/2/complete", new { by = "carol", reject = true, comment = "not now" });
        var failed = await Http.TerminalRunAsync(rejected);
        var (_, afterRejection) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/confirm-sentinel");

        Assert.Equal(200, reject);
        Assert.Equal(("Failed", "rejected by carol: not now"), (failed.Status(), failed.GetProperty("run").GetProperty("error").GetString()));
        Assert.Empty(Directory.GetFiles(rejectedDir));
        Assert.Equal(2, failed.GetProperty("steps").GetArrayLength());
        Assert.Equal((1, 1, 0, 0), Counts(afterRejection.GetProperty("trust").GetProperty("confirm"), "approved", "rejected", "waiting", "approvedInARow"));
        Assert.False(afterRejection.GetProperty("trust").TryGetProperty("suggestion", out _));

        // One approval in a row since the rejection is enough here (ConfirmToAutoAfter = 1): auto is suggested, not made.
        var againDir = Directory.CreateDirectory(Path.Combine(_workspace.Root, "again")).FullName;
        var again = await Http.TriggerAsync("confirm-sentinel", new { dir = againDir });
        await Http.WaitingStepAsync(again, 2);
        await Http.SendAsync(HttpMethod.Post, $"/api/runs/{again}/steps/2/complete", new { by = "carol" });
        Assert.Equal("Succeeded", (await Http.TerminalRunAsync(again)).Status());
        var (_, promoted) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/confirm-sentinel");

        Assert.Equal("1 confirmations approved since the last one rejected (2 approved, 1 rejected): consider `auto`", promoted.GetProperty("trust").GetProperty("suggestion").GetString());
        Assert.Equal("Confirm", promoted.GetProperty("mode").GetString());
    }

    [Fact]
    public async Task a_shadow_run_saves_no_minutes_and_a_drill_is_reported_apart_from_the_savings()
    {
        var proposed = await ProposedAsync("toil");
        var drill = await ProposedAsync("drill");

        // Drills are started by their own schedule; made here from a finished shadow run, as the store would have it.
        var database = Path.Combine(_workspace.Root, "data", "runs.db");
        await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database}"))
        {
            await connection.OpenAsync();
            await using var update = connection.CreateCommand();
            update.CommandText = "UPDATE runbook_runs SET trigger_kind = 'Drill' WHERE id = $id";
            update.Parameters.AddWithValue("$id", drill);
            Assert.Equal(1, await update.ExecuteNonQueryAsync());
        }

        var (status, report) = await Http.SendAsync(HttpMethod.Get, "/api/toil?from=1h&groupBy=runbook");
        var (_, run) = await Http.SendAsync(HttpMethod.Get, $"/api/runs/{proposed}");

        Assert.Equal(200, status);
        var group = report.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("key").GetString() == "shadow-in-process");
        Assert.Equal((1, 0, 0, 1), Counts(group, "runs", "succeeded", "failed", "proposed"));
        Assert.Equal((0.0, 0.0), (group.GetProperty("minutesSaved").GetDouble(), group.GetProperty("baselineMinutes").GetDouble()));
        Assert.Equal((1, 1, 0), Counts(report.GetProperty("drills"), "runs", "proposed", "failed"));
        Assert.Equal((15.0, 0.0), (run.GetProperty("toil").GetProperty("baselineMinutes").GetDouble(), run.GetProperty("toil").GetProperty("savedMinutes").GetDouble()));
    }

    /// <summary>A run of the in-process shadow runbook, started by hand, once it has ended Proposed.</summary>
    private async Task<string> ProposedAsync(string name)
    {
        var dir = Directory.CreateDirectory(Path.Combine(_workspace.Root, name)).FullName;
        var runId = await Http.TriggerAsync("shadow-in-process", new { dir, url = _server.Address.ToString() });
        var run = await Http.EndedRunAsync(runId);
        Assert.True(run.Status() == "Proposed", $"{run}\nhost log:\n{_workspace.Host.Log}");
        return runId;
    }

    private static (string Step, string? Description, string Action) Proposal(JsonElement run)
    {
        var proposal = run.GetProperty("run").GetProperty("proposal");
        return (proposal.GetProperty("step").GetString()!, proposal.TryGetProperty("description", out var d) ? d.GetString() : null, proposal.GetProperty("action").GetString()!);
    }

    private static (int, int, int, int) Counts(JsonElement element, string a, string b, string c, string d) =>
        (element.GetProperty(a).GetInt32(), element.GetProperty(b).GetInt32(), element.GetProperty(c).GetInt32(), element.GetProperty(d).GetInt32());

    private static (int, int, int) Counts(JsonElement element, string a, string b, string c) =>
        (element.GetProperty(a).GetInt32(), element.GetProperty(b).GetInt32(), element.GetProperty(c).GetInt32());

    /// <summary>
    /// Reads a folder (read-only), then would leave a sentinel file by a side-effect step, a command that is not read-only
    /// inside a plain step, or a POST; and writes another file after that, which no proposal may let happen either.
    /// </summary>
    private static string Shadow(string alert, bool isolated) => $$"""
        // ---
        // description: Looks, then would leave a sentinel file one of three ways
        // mode: shadow
        // alerts:
        //   - name: {{alert}}
        // parameters:
        //   dir: { type: string, required: true, from: annotations.dir }
        //   url: { type: string, required: true, from: annotations.url }
        //   way: { type: string, default: step, values: [step, shell, post] }
        // manual_minutes: 15{{(isolated ? "\n// isolation: process" : "")}}
        // ---
        var dir = Params.Get<string>("dir");
        var url = new Uri(Params.Get<string>("url"));
        await Step("look", async ct =>
        {
            await Shell($"ls {dir}", ct, readOnly: true);
            (await Http.GetAsync(new Uri(url, "health"), ct)).EnsureSuccessStatusCode();
        });
        switch (Params.Get<string>("way"))
        {
            case "step":
                await Step("leave the sentinel", ct => File.WriteAllTextAsync(Path.Combine(dir, "sentinel"), "acted", ct), sideEffects: true, description: "writes the sentinel file");
                break;
            case "shell":
                await Step("touch the sentinel", ct => Shell($"touch {Path.Combine(dir, "sentinel")}", ct));
                break;
            default:
                await Http.PostAsync(new Uri(url, "sentinel"), null);
                break;
        }

        File.WriteAllText(Path.Combine(dir, "after"), "went on past the proposal");
        """;

    private const string Confirm = """
        // ---
        // description: Looks, then asks a lead before it leaves a sentinel file
        // mode: confirm
        // confirm: { role: lead, manual_minutes: 3 }
        // parameters:
        //   dir: { type: string, required: true }
        // manual_minutes: 15
        // ---
        var dir = Params.Get<string>("dir");
        await Step("look", ct => Shell($"ls {dir}", ct, readOnly: true));
        await Step("leave the sentinel", ct => File.WriteAllTextAsync(Path.Combine(dir, "sentinel"), "acted", ct), sideEffects: true, description: "writes the sentinel file");
        """;

    [GeneratedRegex(@"run (?<id>[0-9a-f]+) of shadow-in-process queued")]
    private static partial Regex QueuedRun();

    [GeneratedRegex("""<form class="inline" method="post" action="/runs/[^"]+/verdict">\s*<input type="hidden" name="(?<field>[^"]+)" value="(?<token>[^"]+)">""")]
    private static partial Regex VerdictForm();

    /// <summary>A service a runbook reads from (GET) and would act on (POST, which leaves a sentinel of its own).</summary>
    private sealed class SentinelServer : LoopbackHttpServer
    {
        private readonly ConcurrentQueue<string> _seen = new();
        private volatile bool _acted;

        public SentinelServer() => Listen();

        public IReadOnlyList<string> Seen => [.. _seen];

        public bool Acted => _acted;

        protected override Task HandleAsync(HttpListenerContext context)
        {
            _seen.Enqueue($"{context.Request.HttpMethod} {context.Request.Url!.AbsolutePath}");
            if (context.Request.HttpMethod != "GET")
            {
                _acted = true;
            }

            context.Response.StatusCode = 200;
            return Task.CompletedTask;
        }
    }
}
