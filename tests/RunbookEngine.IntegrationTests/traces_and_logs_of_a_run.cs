using System.Text;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A real host exporting traces over OTLP to a collector on loopback and writing compact JSON logs to a file: a run is
/// one trace (its id is the run id) with a span per execution and one per step, linked to the webhook delivery or
/// request that started it, and every log line of the run names its run, runbook, version and step.
/// </summary>
public sealed class traces_and_logs_of_a_run : IAsyncLifetime
{
    private readonly string _logs = Directory.CreateTempSubdirectory("runbook-logs-").FullName;
    private OtlpReceiver _collector = null!;
    private HostWorkspace _workspace = null!;

    private string LogFile => Path.Combine(_logs, "host.json");

    public async Task InitializeAsync()
    {
        _collector = OtlpReceiver.Start();
        _workspace = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__NodeId"] = "traced-node",
            ["RunbookEngine__Telemetry__OtlpEndpoint"] = _collector.Address.ToString(),
            ["RunbookEngine__Telemetry__LogFormat"] = "json",
            ["RunbookEngine__Telemetry__LogFile"] = LogFile,
            ["Serilog__MinimumLevel__Default"] = "Debug",

            // Batches leave every 100 ms rather than every 5 s, so the test waits less; it polls for the spans anyway.
            ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
        },
        new Dictionary<string, string> { ["traced-isolated"] = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Hardening", "traced-isolated.csx")) });
    }

    public async Task DisposeAsync()
    {
        await _workspace.DisposeAsync();
        await _collector.DisposeAsync();
    }

    [Fact]
    public async Task an_alerted_run_is_one_trace_with_one_span_per_step_linked_to_the_webhook_delivery()
    {
        // The sender's own trace context: the delivery joins the sender's trace, and the run links back to it.
        var senderTrace = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray());
        var (status, answer) = await _workspace.Http.PostHookAsync(
            "generic",
            Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new { name = "TraceMe", labels = new { instance = "web-1" }, annotations = new { url = new Uri(_collector.Address, "/ping").ToString() } })),
            headers: new Dictionary<string, string> { ["traceparent"] = $"00-{senderTrace}-00f067aa0ba902b7-01" });
        Assert.True(status == 202, $"the hook answered {status}: {answer}");
        var alert = await _workspace.Http.SettledAlertAsync(answer.GetProperty("alerts")[0].GetProperty("id").GetString()!);
        var runId = alert.Decisions().Single().RunId!;
        Assert.Equal("Succeeded", (await _workspace.Http.TerminalRunAsync(runId)).Status());

        var trace = await _collector.TraceAsync(runId, t => t.Count(s => s.Scope == "RunbookEngine") == 4 && t.Any(s => s.Scope == "System.Net.Http"), "the run's trace never held its run and three steps");
        var run = Assert.Single(trace, s => s.Name == "run traced");
        Assert.Null(run.ParentSpanId);
        Assert.Equal((runId, "traced", "1", "Alert", "Succeeded"), (run["runbook.run.id"], run["runbook.name"], run["runbook.run.attempt"], run["runbook.run.trigger"], run["runbook.run.status"]));
        Assert.Equal(("runbookengine", "traced-node"), (run.Resource["service.name"], run.Resource["service.instance.id"]));

        var steps = trace.Where(s => s.Scope == "RunbookEngine" && s != run).OrderBy(s => int.Parse(s["runbook.step.sequence"]!, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(["look around", "call the api", "report"], steps.Select(s => s.Name));
        Assert.All(steps, s => Assert.Equal((run.SpanId, runId, "traced", "Automated", "Succeeded", "1"),
            (s.ParentSpanId, s["runbook.run.id"], s["runbook.name"], s["runbook.step.kind"], s["runbook.step.status"], s["runbook.step.attempts"])));
        Assert.All(steps, s => Assert.Equal(run["runbook.version"], s["runbook.version"]));

        // What the step's code did is inside the step.
        var call = Assert.Single(trace, s => s.Scope == "System.Net.Http");
        Assert.Equal(steps[1].SpanId, call.ParentSpanId);

        // The delivery's trace: the request (a child of the sender's span), the alerts it stored and their matching,
        // which is what queued the run; the run links there.
        var delivery = await _collector.TraceAsync(senderTrace, t => t.Any(s => s.Name == "match alert"), "the delivery's trace never showed the alert's matching");
        var request = Assert.Single(delivery, s => s.Scope.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal));
        Assert.Equal("00f067aa0ba902b7", request.ParentSpanId);
        var stored = Assert.Single(delivery, s => s.Name == "store alerts");
        Assert.Equal(request.SpanId, stored.ParentSpanId);
        var matched = Assert.Single(delivery, s => s.Name == "match alert");
        Assert.Equal(stored.SpanId, matched.ParentSpanId);
        Assert.Contains($"started run {runId}", matched["runbook.alert.outcome"], StringComparison.Ordinal);
        Assert.Equal([new ReceivedLink(senderTrace, matched.SpanId)], run.Links);
    }

    [Fact]
    public async Task a_run_in_a_process_of_its_own_has_its_steps_in_the_runs_trace()
    {
        var runId = await _workspace.Http.TriggerAsync("traced-isolated", new { });
        var ended = await _workspace.Http.TerminalRunAsync(runId);
        Assert.Equal("Succeeded", ended.Status());

        var trace = await _collector.TraceAsync(runId, t => t.Any(s => s.Name == "run traced-isolated") && t.Any(s => s.Name == "first") && t.Any(s => s.Name == "second"), "the run's trace never held both steps of its process");
        var run = Assert.Single(trace, s => s.Name == "run traced-isolated");
        var process = Assert.Single(trace, s => s.Name == "execute traced-isolated in process");
        Assert.Equal(run.SpanId, process.ParentSpanId);
        Assert.Equal(runId, process["runbook.run.id"]);

        // One span per step, each a child of the process's execution, with its outcome.
        var first = Assert.Single(trace, s => s.Name == "first");
        var second = Assert.Single(trace, s => s.Name == "second");
        Assert.All([first, second], s => Assert.Equal((process.SpanId, runId, "Succeeded"), (s.ParentSpanId, s["runbook.run.id"], s["runbook.step.status"])));
    }

    [Fact]
    public async Task a_retried_run_stays_in_one_trace_with_a_span_per_execution()
    {
        var work = Directory.CreateTempSubdirectory("runbook-retry-").FullName;

        var runId = await _workspace.Http.TriggerAsync("flaky", new { work });
        Assert.Equal("Succeeded", (await _workspace.Http.TerminalRunAsync(runId)).Status());

        var trace = await _collector.TraceAsync(runId, t => t.Count(s => s.Name == "run flaky") == 3 && t.Count(s => s.Name == "flaky") == 3, "the three executions never all arrived");
        var executions = trace.Where(s => s.Name == "run flaky").OrderBy(s => s["runbook.run.attempt"]).ToList();
        Assert.Equal(["1", "2", "3"], executions.Select(s => s["runbook.run.attempt"]));
        Assert.Equal([2, 2, 0], executions.Select(s => s.Status));
        Assert.All(executions, s => Assert.Null(s.ParentSpanId));

        // The step that succeeded in the first attempt is reused, not run again: one span. The failing one ran in each.
        var prepare = Assert.Single(trace, s => s.Name == "prepare");
        Assert.Equal(executions[0].SpanId, prepare.ParentSpanId);
        var flaky = trace.Where(s => s.Name == "flaky").ToList();
        Assert.Equal(executions.Select(e => e.SpanId).Order(), flaky.Select(s => s.ParentSpanId!).Order());
        Assert.Equal(["Failed", "Failed", "Succeeded"], flaky.OrderBy(s => executions.FindIndex(e => e.SpanId == s.ParentSpanId)).Select(s => s["runbook.step.status"]));
        Assert.Contains("not yet (attempt 1)", flaky.Single(s => s.ParentSpanId == executions[0].SpanId).StatusMessage, StringComparison.Ordinal);

        // A manual run links to the API request that queued it.
        Assert.All(executions, e => Assert.Single(e.Links));
        Assert.Single(executions.SelectMany(e => e.Links).Distinct());
    }

    [Fact]
    public async Task a_run_that_rests_for_a_person_resumes_in_the_same_trace()
    {
        var runId = await _workspace.Http.TriggerAsync("approval", new { });
        await _workspace.Http.WaitingStepAsync(runId, 1);
        var (answered, body) = await _workspace.Http.SendAsync(HttpMethod.Post, $"/api/runs/{runId}/steps/1/complete", new { by = "bob" });
        Assert.True(answered == 200, $"the answer got {answered}: {body}");
        Assert.Equal("Succeeded", (await _workspace.Http.TerminalRunAsync(runId)).Status());

        var trace = await _collector.TraceAsync(runId, t => t.Count(s => s.Name == "run approval") == 2 && t.Any(s => s.Name == "proceed") && t.Any(s => s.Name == "Approve: Proceed?"), "the run's trace never held both executions and both steps");
        var executions = trace.Where(s => s.Name == "run approval").OrderBy(s => s["runbook.run.attempt"]).ToList();
        Assert.Equal(["WaitingForHuman", "Succeeded"], executions.Select(s => s["runbook.run.status"]));
        Assert.Contains("waiting for a person", executions[0].Events);

        // The person's step is one span, from the question to the answer, linked to the request that answered it.
        var approval = Assert.Single(trace, s => s.Name == "Approve: Proceed?");
        Assert.Equal(("Approval", "Succeeded", "bob"), (approval["runbook.step.kind"], approval["runbook.step.status"], approval["runbook.step.actor"]));
        Assert.NotEqual(runId, Assert.Single(approval.Links).TraceId);
        var proceed = Assert.Single(trace, s => s.Name == "proceed");
        Assert.Equal(executions[1].SpanId, proceed.ParentSpanId);

        // Both executions' lines and the line about the answer, written by the request, all name the run.
        var lines = await LinesAsync(runId, lines => lines.Any(l => l.Message.Contains("ended Succeeded", StringComparison.Ordinal)));
        Assert.All(lines, l => Assert.True((l.RunId, l.Runbook, l.Version) == (runId, "approval", proceed["runbook.version"]), $"this line does not name run {runId}: {l.Json}"));
        Assert.Contains(lines, l => l.Message.Contains("completed by bob", StringComparison.Ordinal) && l.Step == "Approve: Proceed?");
        Assert.Contains(lines, l => l.Message.Contains("waits for a person", StringComparison.Ordinal));
    }

    [Fact]
    public async Task every_log_line_of_a_run_names_its_run_runbook_and_version_and_the_lines_of_a_step_name_the_step()
    {
        var runId = await _workspace.Http.TriggerAsync("traced", new { url = new Uri(_collector.Address, "/ping").ToString() });
        Assert.Equal("Succeeded", (await _workspace.Http.TerminalRunAsync(runId)).Status());
        var trace = await _collector.TraceAsync(runId, t => t.Count(s => s.Scope == "RunbookEngine") == 4, "the run's trace never held its run and three steps");
        var steps = trace.Where(s => s["runbook.step.sequence"] is not null).ToDictionary(s => s.SpanId, s => s.Name);

        // The lines logged within the run's trace (its id is the run id) and the lines that name the run.
        var lines = await LinesAsync(runId, lines => lines.Any(l => l.Message.Contains("ended Succeeded", StringComparison.Ordinal)));
        Assert.True(lines.Count >= 5, string.Join('\n', lines.Select(l => l.Json)));
        var version = trace[0]["runbook.version"];
        Assert.All(lines, l => Assert.True(
            (l.RunId, l.Runbook, l.Version) == (runId, "traced", version),
            $"this line of run {runId} does not name it, its runbook and version {version}: {l.Json}"));

        // The runbook's own lines, one per step, carry the step; so does every line logged inside a step's span.
        Assert.Equal(
            [("looking around", "look around"), ("the API answered 200", "call the api"), ("all done", "report")],
            lines.Where(l => l.Message is "looking around" or "the API answered 200" or "all done").Select(l => (l.Message, l.Step)));
        Assert.All(lines.Where(l => l.SpanId is { } span && steps.ContainsKey(span)), l => Assert.Equal(steps[l.SpanId!], l.Step));
        Assert.Contains(lines, l => l.Message.Contains("starting", StringComparison.Ordinal));
    }

    /// <summary>The run's lines in the JSON log file, once it holds what is awaited.</summary>
    private async Task<List<LogLine>> LinesAsync(string runId, Func<List<LogLine>, bool> complete)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            // The host still has the file open; read it the way a log shipper would.
            string text;
            using (var stream = new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            using (var reader = new StreamReader(stream))
            {
                text = await reader.ReadToEndAsync();
            }

            var all = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(LogLine.Parse).ToList();
            var lines = all.Where(l => l.TraceId == runId || l.RunId == runId).ToList();
            if (complete(lines))
            {
                return lines;
            }

            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(2), $"the log never showed the run's end:\n{text}");
            await tick.WaitForNextTickAsync();
        }
    }

    private sealed record LogLine(string Json, string Message, string? TraceId, string? SpanId, string? RunId, string? Runbook, string? Version, string? Step)
    {
        public static LogLine Parse(string json)
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            string? Text(string name) => root.TryGetProperty(name, out var value) ? value.ToString() : null;
            return new LogLine(json, RenderedMessage(root), Text("@tr"), Text("@sp"), Text("RunId"), Text("Runbook"), Text("Version"), Text("Step"));
        }

        // Compact JSON keeps the template (@mt) and the properties; the runbook's lines are their own template.
        private static string RenderedMessage(JsonElement root)
        {
            var template = root.TryGetProperty("@mt", out var mt) ? mt.GetString() ?? "" : root.TryGetProperty("@m", out var m) ? m.GetString() ?? "" : "";
            foreach (var property in root.EnumerateObject().Where(p => !p.Name.StartsWith('@')))
            {
                template = template.Replace("{" + property.Name + "}", property.Value.ToString(), StringComparison.Ordinal);
            }

            return template;
        }
    }
}
