using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A host following <c>master</c> of a repository on disk checks pull requests into it when GitHub says one opened or
/// moved: the recorded <c>pull_request</c> deliveries of octokit/webhooks (Codertocat/Hello-World, pull request #2),
/// signed in the test, with their head commit moved to one the test pushed as <c>refs/pull/2/head</c>. The check goes
/// to a fake GitHub API on loopback; what the host serves stays as it was.
/// </summary>
public sealed class checks_on_pull_requests : IAsyncLifetime
{
    private const string Secret = "pull-request-webhook-secret";
    private FakeGitHubApi _api = null!;
    private GitRemote _remote = null!;
    private HostWorkspace _host = null!;
    private string _served = "";

    private HttpClient Http => _host.Http;

    public async Task InitializeAsync()
    {
        _api = FakeGitHubApi.Start();
        _remote = await GitRemote.CreateAsync("master");
        _served = await _remote.CommitAsync("First runbooks", new Dictionary<string, string?> { ["ops/runbooks/greet.csx"] = Runbook("v1") }, "master");
        _host = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Catalog__Source"] = "git",
            ["RunbookEngine__Catalog__Git__Url"] = _remote.Bare,
            ["RunbookEngine__Catalog__Git__Branch"] = "master",
            ["RunbookEngine__Catalog__Git__Path"] = "ops/runbooks",
            ["RunbookEngine__Catalog__Git__FetchInterval"] = "01:00:00",
            ["RunbookEngine__GitHub__ApiUrl"] = _api.Address.ToString(),
            ["RunbookEngine__GitHub__Repository"] = "Codertocat/Hello-World",
            ["RunbookEngine__GitHub__Token"] = "ghp_pull-request-token",
            ["RunbookEngine__GitHub__WebhookSecret"] = Secret,

            // Off by default: these tests are about the cases.
            ["RunbookEngine__GitHub__TestCases"] = "SameRepository",
        });
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _api.DisposeAsync();
    }

    private static string Runbook(string marker, string extra = "") => $$"""
        // ---
        // description: Greets
        // ---
        await Step("say", ct => { Log.Info("hello from {{marker}}"); return Task.CompletedTask; });
        {{extra}}
        """;

    // Line 3 is the status the failing run does not reach.
    private const string GreetingCase = """
        description: greet says hello and succeeds
        expect:
          status: Succeeded
          steps:
            - { name: say, status: Succeeded }
        """;

    private const string OneStepCase = """
        description: greet takes one step, which succeeds, whatever happens after
        expect:
          steps:
            - { name: say, status: Succeeded }
        """;

    [Fact]
    public async Task a_pull_request_carrying_a_broken_runbook_gets_a_failed_check_at_its_file_and_line_while_what_serves_stays()
    {
        await _api.UntilAsync(r => r.Any(q => IsCreate(q, _served)), "the commit loaded at start was not checked");
        var runbooksBefore = await Http.GetStringAsync("/api/runbooks");
        var head = await _remote.PullRequestAsync(2, "Break greet, add fresh", new Dictionary<string, string?>
        {
            ["ops/runbooks/greet.csx"] = Runbook("v2", "undefinedName();"),
            ["ops/runbooks/fresh.csx"] = Runbook("fresh"),
        }, "master");
        var delivery = Guid.NewGuid().ToString();
        var body = GitHubDeliveries.PullRequest("pull-request-opened.json", head);

        var (status, answer) = await PostAsync("pull_request", body, delivery);
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");
        var (replayStatus, replay) = await PostAsync("pull_request", body, delivery);

        Assert.Equal(202, status);
        Assert.Equal((head, 2), (answer.GetProperty("checking").GetString(), answer.GetProperty("pullRequest").GetInt32()));
        var check = requests.Single(q => IsCreate(q, head));
        Assert.Equal(("/repos/Codertocat/Hello-World/check-runs", "Token ghp_pull-request-token"), (check.Path, check.Authorization));
        var posted = check.Body!.Value;
        Assert.Equal(("runbooks", "completed", "failure"), (posted.GetProperty("name").GetString(), posted.GetProperty("status").GetString(), posted.GetProperty("conclusion").GetString()));
        var annotation = Assert.Single(posted.GetProperty("output").GetProperty("annotations").EnumerateArray());
        Assert.Equal(("ops/runbooks/greet.csx", 5, 5, "failure"),
            (annotation.GetProperty("path").GetString(), annotation.GetProperty("start_line").GetInt32(), annotation.GetProperty("end_line").GetInt32(), annotation.GetProperty("annotation_level").GetString()));
        Assert.Contains("undefinedName", annotation.GetProperty("message").GetString(), StringComparison.Ordinal);
        var summary = posted.GetProperty("output").GetProperty("summary").GetString()!;
        Assert.Contains("Pull request #2", summary, StringComparison.Ordinal);
        Assert.Contains("Added: `fresh`", summary, StringComparison.Ordinal);
        Assert.Contains("Changed: `greet`", summary, StringComparison.Ordinal);
        Assert.Contains("Do not compile: `greet`", summary, StringComparison.Ordinal);
        Assert.Equal(200, replayStatus);
        Assert.Contains("already handled", replay.GetProperty("ignored").GetString(), StringComparison.Ordinal);

        // Nothing served moved: the same runbooks, the same versions, the same commit, and a run runs the served version.
        Assert.Equal(runbooksBefore, await Http.GetStringAsync("/api/runbooks"));
        var (_, catalog) = await Http.SendAsync(HttpMethod.Get, "/api/catalog");
        Assert.Equal(_served, catalog.GetProperty("commit").GetString());
        var (freshStatus, _) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/fresh");
        Assert.Equal(404, freshStatus);
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));
        Assert.Contains("hello from v1", run.Steps().Single().Output, StringComparison.Ordinal);
        var (_, versions) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/greet/versions");
        Assert.Single(versions.EnumerateArray());
        Assert.DoesNotContain("ghp_pull-request-token", _host.Host.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_pull_request_whose_runbooks_compile_but_whose_case_fails_gets_a_failed_check_at_the_case_file_while_what_serves_stays()
    {
        await _api.UntilAsync(r => r.Any(q => IsCreate(q, _served)), "the commit loaded at start was not checked");
        var runbooksBefore = await Http.GetStringAsync("/api/runbooks");
        var head = await _remote.PullRequestAsync(2, "Greet, then fail", new Dictionary<string, string?>
        {
            ["ops/runbooks/greet.csx"] = Runbook("v2", """throw new RunbookFailedException("the greeting went missing");"""),
            ["ops/runbooks/tests/greet/says-hello.yaml"] = GreetingCase,
            ["ops/runbooks/tests/greet/runs-one-step.yaml"] = OneStepCase,
        }, "master");

        var (status, _) = await PostAsync("pull_request", GitHubDeliveries.PullRequest("pull-request-opened.json", head), Guid.NewGuid().ToString());
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");

        Assert.Equal(202, status);
        var posted = requests.Single(q => IsCreate(q, head)).Body!.Value;
        Assert.Equal("failure", posted.GetProperty("conclusion").GetString());
        var output = posted.GetProperty("output");
        Assert.Equal("All 1 runbooks compile; 2 cases, 1 failed", output.GetProperty("title").GetString());
        var annotation = Assert.Single(output.GetProperty("annotations").EnumerateArray());
        Assert.Equal(("ops/runbooks/tests/greet/says-hello.yaml", 3, "failure"),
            (annotation.GetProperty("path").GetString(), annotation.GetProperty("start_line").GetInt32(), annotation.GetProperty("annotation_level").GetString()));
        Assert.Equal("greet: case says-hello failed", annotation.GetProperty("title").GetString());
        Assert.Contains("status: expected Succeeded, the run ended Failed (the greeting went missing)", annotation.GetProperty("message").GetString(), StringComparison.Ordinal);
        var summary = output.GetProperty("summary").GetString()!;
        Assert.Contains("Test cases: 2 cases, 1 failed.", summary, StringComparison.Ordinal);
        Assert.Contains("### Case `greet/says-hello` failed", summary, StringComparison.Ordinal);
        Assert.DoesNotContain("runs-one-step` failed", summary, StringComparison.Ordinal);

        // The case ran in a process of its own: the host still serves v1 from its own working directory.
        Assert.Equal(runbooksBefore, await Http.GetStringAsync("/api/runbooks"));
        var (_, catalog) = await Http.SendAsync(HttpMethod.Get, "/api/catalog");
        Assert.Equal(_served, catalog.GetProperty("commit").GetString());
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));
        Assert.Equal("Succeeded", run.GetProperty("run").GetProperty("status").GetString());
        Assert.Contains("hello from v1", run.Steps().Single().Output, StringComparison.Ordinal);
        Assert.Contains("Running the test cases of", _host.Host.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_pull_request_whose_cases_pass_gets_a_successful_check_that_counts_them()
    {
        var head = await _remote.PullRequestAsync(2, "Greet anew, with a case", new Dictionary<string, string?>
        {
            ["ops/runbooks/greet.csx"] = Runbook("v2"),
            ["ops/runbooks/tests/greet/says-hello.yaml"] = GreetingCase,
        }, "master");

        await PostAsync("pull_request", GitHubDeliveries.PullRequest("pull-request-opened.json", head), Guid.NewGuid().ToString());
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");

        var posted = requests.Single(q => IsCreate(q, head)).Body!.Value;
        Assert.Equal("success", posted.GetProperty("conclusion").GetString());
        Assert.Equal("All 1 runbooks compile; 1 case, 0 failed", posted.GetProperty("output").GetProperty("title").GetString());
        Assert.Contains("Test cases: 1 case, 0 failed.", posted.GetProperty("output").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.Empty(posted.GetProperty("output").GetProperty("annotations").EnumerateArray());
    }

    [Fact]
    public async Task a_pull_request_from_a_fork_is_compiled_but_its_cases_are_not_run_and_the_check_says_why()
    {
        var head = await _remote.PullRequestAsync(2, "Greet, then fail", new Dictionary<string, string?>
        {
            ["ops/runbooks/greet.csx"] = Runbook("v2", """throw new RunbookFailedException("the greeting went missing");"""),
            ["ops/runbooks/tests/greet/says-hello.yaml"] = GreetingCase,
        }, "master");
        var pull = System.Text.Json.Nodes.JsonNode.Parse(GitHubDeliveries.PullRequest("pull-request-opened.json", head))!;
        pull["pull_request"]!["head"]!["repo"]!["full_name"] = "mallory/Hello-World";

        await PostAsync("pull_request", JsonSerializer.SerializeToUtf8Bytes(pull), Guid.NewGuid().ToString());
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");

        var posted = requests.Single(q => IsCreate(q, head)).Body!.Value;
        Assert.Equal("success", posted.GetProperty("conclusion").GetString());
        Assert.Contains("Test cases: not run: the pull request comes from a fork", posted.GetProperty("output").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Running the test cases of", _host.Host.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_case_that_never_ends_is_killed_at_the_timeout_with_what_it_left_running_and_fails_the_check_at_its_file()
    {
        // Long enough for the child to start and compile on a loaded machine; the case itself never ends.
        await _host.RestartAsync(new Dictionary<string, string?> { ["RunbookEngine__GitHub__TestCasesTimeout"] = "00:00:30" });
        var head = await _remote.PullRequestAsync(2, "Greet, leave a sleeper holding the output, then wait for ever", new Dictionary<string, string?>
        {
            // The detached sleep outlives its shell and holds the cases' standard output; deaf to its token, only killing its process ends the case.
            ["ops/runbooks/greet.csx"] = Runbook("v2", Detached + "System.Threading.Thread.Sleep(System.Threading.Timeout.Infinite);"),
            ["ops/runbooks/tests/greet/says-hello.yaml"] = GreetingCase,
        }, "master");

        await PostAsync("pull_request", GitHubDeliveries.PullRequest("pull-request-opened.json", head), Guid.NewGuid().ToString());
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");

        var posted = requests.Single(q => IsCreate(q, head)).Body!.Value;
        Assert.Equal("failure", posted.GetProperty("conclusion").GetString());
        var output = posted.GetProperty("output");
        Assert.Equal("All 1 runbooks compile; test cases did not finish (0 finished, 0 failed)", output.GetProperty("title").GetString());
        var annotation = Assert.Single(output.GetProperty("annotations").EnumerateArray());
        Assert.Equal(("ops/runbooks/tests/greet/says-hello.yaml", 1), (annotation.GetProperty("path").GetString(), annotation.GetProperty("start_line").GetInt32()));
        var message = annotation.GetProperty("message").GetString()!;
        Assert.Contains("did not finish within", message, StringComparison.Ordinal);
        Assert.Contains("(RunbookEngine:GitHub:TestCasesTimeout), so their process was killed while tests/greet/says-hello.yaml ran", message, StringComparison.Ordinal);
        await NoCaseProcessLeftAsync();
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("greet", new { }));
        Assert.Contains("hello from v1", run.Steps().Single().Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_case_that_passes_but_leaves_a_detached_process_holding_its_output_still_ends_the_check_with_nothing_left_running()
    {
        var head = await _remote.PullRequestAsync(2, "Greet, leaving a sleeper behind", new Dictionary<string, string?>
        {
            ["ops/runbooks/greet.csx"] = Runbook("v2", Detached),
            ["ops/runbooks/tests/greet/says-hello.yaml"] = GreetingCase,
        }, "master");

        await PostAsync("pull_request", GitHubDeliveries.PullRequest("pull-request-opened.json", head), Guid.NewGuid().ToString());
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");

        var posted = requests.Single(q => IsCreate(q, head)).Body!.Value;
        Assert.Equal("success", posted.GetProperty("conclusion").GetString());
        Assert.Equal("All 1 runbooks compile; 1 case, 0 failed", posted.GetProperty("output").GetProperty("title").GetString());
        await NoCaseProcessLeftAsync();
    }

    [Fact]
    public async Task with_test_cases_at_their_default_a_pull_request_is_compiled_and_its_check_says_its_cases_were_not_run()
    {
        await _host.RestartAsync(new Dictionary<string, string?> { ["RunbookEngine__GitHub__TestCases"] = null });
        var head = await _remote.PullRequestAsync(2, "Greet, then fail", new Dictionary<string, string?>
        {
            ["ops/runbooks/greet.csx"] = Runbook("v2", """throw new RunbookFailedException("the greeting went missing");"""),
            ["ops/runbooks/tests/greet/says-hello.yaml"] = GreetingCase,
        }, "master");

        await PostAsync("pull_request", GitHubDeliveries.PullRequest("pull-request-opened.json", head), Guid.NewGuid().ToString());
        var requests = await _api.UntilAsync(r => r.Any(q => IsCreate(q, head)), "the pull request's head was not checked");

        var posted = requests.Single(q => IsCreate(q, head)).Body!.Value;
        Assert.Equal("success", posted.GetProperty("conclusion").GetString());
        Assert.Contains("Test cases: not run: RunbookEngine:GitHub:TestCases is Off.", posted.GetProperty("output").GetProperty("summary").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain("Running the test cases of", _host.Host.Log, StringComparison.Ordinal);
    }

    // A shell that starts a sleep in the background and exits: the sleep leaves the process tree, keeping the cases' pipes.
    private const string Detached = """System.Diagnostics.Process.Start("sh", new[] { "-c", "sleep 600 &" })!.WaitForExit();""" + "\n";

    /// <summary>Waits (up to a minute) until no process of this test's host runs its cases or anything they started.</summary>
    private async Task NoCaseProcessLeftAsync()
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (CaseProcesses() is { Count: > 0 } left)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), $"still running: {string.Join("; ", left)}");
            await tick.WaitForNextTickAsync();
        }
    }

    /// <summary>
    /// Processes of this test's host's cases: each runs in the commit's export under the host's folder, or has its
    /// temporary folder there, so other tests' hosts are not counted.
    /// </summary>
    private List<string> CaseProcesses() =>
        [.. Directory.EnumerateDirectories("/proc")
            .Where(d => int.TryParse(Path.GetFileName(d), out _))
            .Select(d => (Command: Read(Path.Combine(d, "cmdline")), Environment: Read(Path.Combine(d, "environ")), Directory: WorkingDirectory(d)))
            .Where(p => p.Command.Contains(_host.Root, StringComparison.Ordinal) && p.Command.Contains("--run-cases=", StringComparison.Ordinal)
                || p.Environment.Contains("TMPDIR=" + _host.Root, StringComparison.Ordinal)
                || p.Directory.StartsWith(_host.Root + "/", StringComparison.Ordinal) && !p.Command.Contains("RunbookEngine.Host", StringComparison.Ordinal))
            .Select(p => p.Command)];

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Replace('\0', ' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static string WorkingDirectory(string process)
    {
        try
        {
            return new DirectoryInfo(Path.Combine(process, "cwd")).LinkTarget ?? "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    [Fact]
    public async Task other_pull_request_actions_are_answered_200_and_ignored_and_an_unsigned_one_is_refused()
    {
        var closed = GitHubDeliveries.Fixture("pull-request-closed.json");

        var (status, answer) = await PostAsync("pull_request", closed, Guid.NewGuid().ToString());
        var (unsignedStatus, _) = await PostAsync("pull_request", closed, Guid.NewGuid().ToString(), signed: false);

        Assert.Equal(200, status);
        Assert.Equal("pull request action 'closed'; checks are posted on opened, synchronize and reopened", answer.GetProperty("ignored").GetString());
        Assert.Equal(401, unsignedStatus);
        Assert.DoesNotContain(_api.Requests, r => r.Method == "POST" && r.Body?.GetProperty("head_sha").GetString() == "ec26c3e57ca3a959ca5aad62de7213c562f8c821");
    }

    private async Task<(int Status, JsonElement Body)> PostAsync(string githubEvent, byte[] body, string delivery, bool signed = true)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        request.Headers.TryAddWithoutValidation("X-GitHub-Event", githubEvent);
        request.Headers.TryAddWithoutValidation("X-GitHub-Delivery", delivery);
        if (signed)
        {
            request.Headers.TryAddWithoutValidation("X-Hub-Signature-256", GitHubDeliveries.Sign(Secret, body));
        }

        using var response = await Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static bool IsCreate(GitHubRequest request, string commit) =>
        request.Method == "POST" && request.Path.EndsWith("/check-runs", StringComparison.Ordinal) && request.Body?.GetProperty("head_sha").GetString() == commit;
}
