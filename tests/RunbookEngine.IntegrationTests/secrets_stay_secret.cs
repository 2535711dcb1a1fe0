using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A runbook reads a secret from the environment secret store and takes a secret parameter, then tries to leak both
/// through its log, shell output (stdout and stderr), a step's name, a step's return value, exception messages and
/// its failure error, in the host's process and in a process of its own. Neither value may appear in the host's log,
/// any API answer or any dashboard page.
/// </summary>
public sealed class secrets_stay_secret : IAsyncLifetime
{
    // Letters, digits and '-' only, so JSON, HTML and URL encodings leave them as they are and a plain search finds them.
    private readonly string _token = $"tok-{Guid.NewGuid():N}";
    private readonly string _password = $"pw-{Guid.NewGuid():N}";
    private HostWorkspace _workspace = null!;

    private HttpClient Http => _workspace.Http;

    public async Task InitializeAsync()
    {
        var leaky = a_runbook_that_misbehaves.HardeningRunbooks()["leaky"];
        var isolated = leaky.Replace("// ---\n// description:", "// ---\n// isolation: process\n// description:", StringComparison.Ordinal);
        Assert.NotEqual(leaky, isolated);
        _workspace = await HostWorkspace.StartAsync(
            new Dictionary<string, string> { ["RUNBOOK_SECRET_LEAKY_TOKEN"] = _token },
            new Dictionary<string, string> { ["leaky"] = leaky, ["leaky-isolated"] = isolated });
    }

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task appear_in_no_log_api_answer_or_dashboard_page()
    {
        var runs = new List<string>();
        foreach (var runbook in new[] { "leaky", "leaky-isolated" })
        {
            var runId = await Http.TriggerAsync(runbook, new { password = _password });
            var run = await Http.TerminalRunAsync(runId);

            // The runbook really had the values and really tried: everything it tried shows up masked.
            Assert.Equal("Failed", run.Status());
            Assert.Equal("giving up with *** and ***", run.GetProperty("run").GetProperty("error").GetString());
            var steps = run.Steps();
            Assert.Equal(["use ***", "return them", "throw them"], steps.Select(s => s.Name));
            Assert.Contains("in a step: *** ***", steps[0].Output, StringComparison.Ordinal);
            Assert.Contains("*** ***\n", steps[0].Output, StringComparison.Ordinal);
            Assert.Contains("the result holds a secret, so it is not journaled", steps[1].Output, StringComparison.Ordinal);
            Assert.Contains("bad *** and ***", run.GetProperty("steps")[2].GetProperty("error").GetString(), StringComparison.Ordinal);
            await Http.UntilAsync($"/api/runs/{runId}", body => _workspace.Host.Log.Contains($"{runId} ended", StringComparison.Ordinal) ? body : null, "the host never logged the run's end");
            runs.Add(runId);
        }

        var seen = new Dictionary<string, string> { ["the host's log"] = _workspace.Host.Log };
        var paths = new List<string>
        {
            "/api/runs", "/api/runs?runbook=leaky", "/api/alerts", "/api/runbooks", "/api/runbooks/leaky", "/api/runbooks/leaky-isolated",
            "/api/toil", "/api/toil/unautomated", "/metrics", "/", "/runbooks", "/runbooks/leaky", "/runbooks/leaky-isolated", "/alerts", "/toil",
        };
        paths.AddRange(runs.SelectMany(id => new[] { $"/api/runs/{id}", $"/runs/{id}" }));
        foreach (var path in paths)
        {
            using var response = await Http.GetAsync(new Uri(path, UriKind.Relative));
            Assert.True(response.IsSuccessStatusCode, $"{path} answered {(int)response.StatusCode}");
            seen[path] = await response.Content.ReadAsStringAsync();
        }

        Assert.Contains("leaky-isolated", seen["/"], StringComparison.Ordinal);
        foreach (var (where, text) in seen)
        {
            Assert.False(text.Contains(_token, StringComparison.Ordinal), $"the secret from the secret store appears in {where}");
            Assert.False(text.Contains(_password, StringComparison.Ordinal), $"the secret parameter appears in {where}");
        }

        // Once the runbook is deleted nothing says which parameters were secret, so its runs show none of their values.
        File.Delete(Path.Combine(_workspace.Root, "runbooks", "leaky.csx"));
        await Http.UntilAsync("/api/runbooks", list => list.EnumerateArray().Any(r => r.GetProperty("name").GetString() == "leaky") ? null : list, "the deleted runbook is still served");
        foreach (var path in new[] { $"/api/runs/{runs[0]}", $"/runs/{runs[0]}", "/api/runs" })
        {
            var text = await Http.GetStringAsync(new Uri(path, UriKind.Relative));
            Assert.False(text.Contains(_password, StringComparison.Ordinal), $"the secret parameter of a deleted runbook's run appears in {path}");
        }

        // Not vacuous: the runbook's masked lines did reach the host's log.
        Assert.Contains("run level: token *** password ***", seen["the host's log"], StringComparison.Ordinal);
        Assert.Contains("\"password\":\"***\"", JsonSerializer.Deserialize<JsonElement>(seen[$"/api/runs/{runs[0]}"]).GetProperty("run").GetProperty("parametersJson").GetString(), StringComparison.Ordinal);
    }
}
