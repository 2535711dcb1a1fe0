using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Cli.Tests;

/// <summary><c>runbook complete</c>, <c>runbook verdict</c> and <c>runbook toil</c> against a host that answers with canned bodies.</summary>
public sealed partial class HostCommandTests
{
    private const string Step = """
        {"sequence":2,"name":"Approve: Delete 3 snapshots?","kind":"Approval","status":"Succeeded","startedAt":"2026-11-24T10:00:00+00:00",
         "finishedAt":"2026-11-24T10:05:00+00:00","attempts":1,"output":null,"error":null,"actor":"bob","pickedUpAt":"2026-11-24T10:01:00+00:00",
         "manualMinutes":5,"comment":"looks fine","role":null,"differentPerson":true,"dueAt":null}
        """;

    private const string Report = """
        {"from":"2026-11-17T10:00:00+00:00","to":"2026-11-24T10:00:00+00:00","groupBy":"week","groups":[
          {"key":"2026-W47","runs":3,"succeeded":2,"failed":1,"successRate":0.67,"baselineMinutes":40,"minutesSaved":39.5,"humanMinutes":0.5,
           "automatedMinutes":0.1,"alerts":2,"alertsRemediated":1,"medianMinutesToRemediate":1.2,"p90MinutesToRemediate":null,"medianMinutesToResolve":null},
          {"key":"2026-W48","runs":1,"succeeded":0,"failed":0,"successRate":null,"baselineMinutes":0,"minutesSaved":0,"humanMinutes":0,
           "automatedMinutes":0,"alerts":0,"alertsRemediated":0,"medianMinutesToRemediate":null,"p90MinutesToRemediate":null,"medianMinutesToResolve":null}],
         "total":{"key":"total","runs":4,"succeeded":2,"failed":1,"successRate":0.67,"baselineMinutes":40,"minutesSaved":39.5,"humanMinutes":0.5,
           "automatedMinutes":0.1,"alerts":2,"alertsRemediated":1,"medianMinutesToRemediate":1.2,"p90MinutesToRemediate":4.25,"medianMinutesToResolve":null}}
        """;

    [Fact]
    public async Task Complete_PostsTheAnswerAndSaysWhoCompletedTheStep()
    {
        await using var host = await FakeHost.StartAsync(200, Step);

        var result = await RunAsync("complete", "run 1", "2", "--by", "bob", "--comment", "looks fine", "--picked-up-at", "2026-11-24T11:01:00+01:00", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(host.Requests);
        Assert.Equal(("POST", "/api/runs/run 1/steps/2/complete"), (request.Method, request.Path));
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal("bob", body.GetProperty("by").GetString());
        Assert.Equal("looks fine", body.GetProperty("comment").GetString());
        Assert.False(body.GetProperty("reject").GetBoolean());
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 10, 1, 0, TimeSpan.Zero), body.GetProperty("pickedUpAt").GetDateTimeOffset());
        Assert.Equal("step 2 'Approve: Delete 3 snapshots?' completed by bob", result.StdOut.Trim());
    }

    [Fact]
    public async Task Complete_WithReject_SendsOnlyWhatWasGivenAndAnswersAsTheUser()
    {
        await using var host = await FakeHost.StartAsync(200, Step.Replace("\"actor\":\"bob\"", "\"actor\":\"\"", StringComparison.Ordinal));

        var result = await RunAsync("complete", "r-9", "2", "--reject", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var body = JsonDocument.Parse(Assert.Single(host.Requests).Body).RootElement;
        Assert.Equal(["by", "reject"], body.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal(Environment.UserName, body.GetProperty("by").GetString());
        Assert.True(body.GetProperty("reject").GetBoolean());
        Assert.Equal($"step 2 'Approve: Delete 3 snapshots?' rejected by {Environment.UserName}", result.StdOut.Trim());
    }

    [Theory]
    [InlineData(403, 1)]
    [InlineData(409, 1)]
    [InlineData(404, 2)]
    [InlineData(400, 2)]
    public async Task Complete_WhenTheHostRefuses_PrintsItsErrorAndExitsWithTheUsualCode(int status, int exitCode)
    {
        await using var host = await FakeHost.StartAsync(status, """{"error":"bob started this run; someone else must approve it"}""");

        var result = await RunAsync("complete", "r-1", "2", "--by", "bob", "--server", host.Url);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains($"answered {status}: bob started this run; someone else must approve it", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("", result.StdOut);
    }

    [Fact]
    public async Task Complete_WithAPickedUpAtThatIsNoTime_IsRefusedBeforeAnyRequest()
    {
        await using var host = await FakeHost.StartAsync(200, Step);

        var result = await RunAsync("complete", "r-1", "2", "--picked-up-at", "yesterday", "--server", host.Url);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--picked-up-at 'yesterday' is not an ISO 8601 time", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(host.Requests);
    }

    [Fact]
    public async Task Complete_WhenTheHostIsUnreachable_SaysSoAndFails()
    {
        // A port that was just free: nothing listens there, so the connection is refused at once.
        var port = Loopback.FreePort();

        var result = await RunAsync("complete", "r-1", "2", "--server", $"http://127.0.0.1:{port}");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"cannot reach http://127.0.0.1:{port}/", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Toil_SendsTheWindowAndGroupingAndPrintsATableWithATotal()
    {
        await using var host = await FakeHost.StartAsync(200, Report);

        var result = await RunAsync("toil", "--since", "24h", "--until", "2026-11-24T10:00:00Z", "--group-by", "Week", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(host.Requests);
        Assert.Equal(("GET", "/api/toil", "?from=24h&to=2026-11-24T10%3A00%3A00Z&groupBy=week"), (request.Method, request.Path, request.Query));
        Assert.StartsWith("toil from 2026-11-17 10:00 to 2026-11-24 10:00 UTC, by week", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(
            [
                ["week", "runs", "success", "saved", "human", "auto", "alerts", "MTTR", "MTTR"],
                ["", "", "", "min", "min", "min", "", "p50", "p90"],
                ["2026-W47", "3", "67%", "39.5", "0.5", "0.1", "2", "1.2", "–"],
                ["2026-W48", "1", "–", "0", "0", "0", "0", "–", "–"],
                ["total", "4", "67%", "39.5", "0.5", "0.1", "2", "1.2", "4.3"],
            ],
            Rows(result.StdOut));
    }

    [Fact]
    public async Task Toil_ByDefault_AsksForTheLastSevenDaysByRunbook()
    {
        await using var host = await FakeHost.StartAsync(200, """{"from":"2026-11-17T10:00:00Z","to":"2026-11-24T10:00:00Z","groupBy":"runbook","groups":[],"total":{"key":"total","runs":0}}""");

        var result = await RunAsync("toil", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(("/api/toil", "?from=7d&groupBy=runbook"), (Assert.Single(host.Requests).Path, host.Requests.Single().Query));
        Assert.Equal("no runs from 2026-11-17 10:00 to 2026-11-24 10:00 UTC.", result.StdOut.Trim());
    }

    [Fact]
    public async Task Toil_WithCsv_WritesTheHostsCsvUnchanged()
    {
        const string Csv = "key,runs,succeeded\nprune-snapshots,3,2\n\"a,b\",1,1\ntotal,4,3\n";
        await using var host = await FakeHost.StartAsync(200, Csv, "text/csv; charset=utf-8");

        var result = await RunAsync("toil", "--group-by", "source", "--csv", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("?from=7d&groupBy=source&format=csv", Assert.Single(host.Requests).Query);
        Assert.Equal(Csv, result.StdOut);
    }

    [Fact]
    public async Task Toil_Unautomated_RanksTheAlertsToAutomateNext()
    {
        await using var host = await FakeHost.StartAsync(200, """
            {"from":"2026-11-17T10:00:00Z","to":"2026-11-24T10:00:00Z","alerts":[
              {"alert":"CertExpiring","sources":["generic","alertmanager"],"count":3,"minutesEach":15,"estimatedMinutes":45,"firstSeen":"2026-11-18T10:00:00Z","lastSeen":"2026-11-20T10:00:00Z","rank":1},
              {"alert":"QueueBacklog","sources":["generic"],"count":1,"minutesEach":7.5,"estimatedMinutes":7.5,"firstSeen":"2026-11-19T10:00:00Z","lastSeen":"2026-11-19T10:00:00Z","rank":2}]}
            """);

        var result = await RunAsync("toil", "--unautomated", "--since", "2026-11-17", "--group-by", "week", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(host.Requests);
        Assert.Equal(("/api/toil/unautomated", "?from=2026-11-17"), (request.Path, request.Query));
        Assert.Contains("what to automate next", result.StdOut, StringComparison.Ordinal);
        Assert.Equal(
            [
                ["#", "alert", "sources", "count", "min", "est."],
                ["", "", "", "", "each", "min"],
                ["1", "CertExpiring", "generic, alertmanager", "3", "15", "45"],
                ["2", "QueueBacklog", "generic", "1", "7.5", "7.5"],
            ],
            Rows(result.StdOut));
    }

    [Fact]
    public async Task Toil_Unautomated_WithNoAlerts_SaysEveryAlertMatchedARunbook()
    {
        await using var host = await FakeHost.StartAsync(200, """{"from":"2026-11-17T10:00:00Z","to":"2026-11-24T10:00:00Z","alerts":[]}""");

        var result = await RunAsync("toil", "--unautomated", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("every alert from 2026-11-17 10:00 to 2026-11-24 10:00 UTC matched a runbook: nothing left to automate.", result.StdOut.Trim());
    }

    [Fact]
    public async Task Toil_WithAGroupingItDoesNotKnow_IsRefusedBeforeAnyRequest()
    {
        await using var host = await FakeHost.StartAsync(200, Report);

        var result = await RunAsync("toil", "--group-by", "team", "--server", host.Url);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--group-by 'team' is not one of runbook, week, service, source", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(host.Requests);
    }

    [Fact]
    public async Task Toil_WhenTheHostRejectsTheWindow_PrintsItsErrorAndExitsWithUsage()
    {
        await using var host = await FakeHost.StartAsync(400, """{"error":"from must be before to"}""");

        var result = await RunAsync("toil", "--csv", "--since", "2026-12-01", "--until", "2026-11-01", "--server", host.Url);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("answered 400: from must be before to", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("", result.StdOut);
    }

    [Fact]
    public async Task Verdict_PostsRightOrWrongWithTheCommentAndSaysWhatWasJudged()
    {
        await using var host = await FakeHost.StartAsync(200, """
            {"runId":"r-7","status":"Proposed","proposal":{"step":"restart nginx","action":"step","parameters":{}},
             "verdict":{"right":false,"by":"bob","comment":"it was the disk","at":"2026-11-24T10:00:00+00:00"}}
            """);

        var result = await RunAsync("verdict", "r-7", "wrong", "--comment", "it was the disk", "--by", "bob", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var request = Assert.Single(host.Requests);
        Assert.Equal(("POST", "/api/runs/r-7/verdict"), (request.Method, request.Path));
        var body = JsonDocument.Parse(request.Body).RootElement;
        Assert.Equal((false, "bob", "it was the disk"), (body.GetProperty("right").GetBoolean(), body.GetProperty("by").GetString(), body.GetProperty("comment").GetString()));
        Assert.Equal("run r-7: proposing 'restart nginx' would have been wrong, says bob", result.StdOut.Trim());
    }

    [Theory]
    [InlineData(409, 1)]
    [InlineData(404, 2)]
    public async Task Verdict_WhenTheHostRefuses_PrintsItsErrorAndExitsWithTheUsualCode(int status, int exitCode)
    {
        await using var host = await FakeHost.StartAsync(status, """{"error":"run 'r-1' is Succeeded, not Proposed"}""");

        var result = await RunAsync("verdict", "r-1", "right", "--server", host.Url);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains($"answered {status}: run 'r-1' is Succeeded, not Proposed", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verdict_OtherThanRightOrWrong_IsRefusedBeforeAnyRequest()
    {
        await using var host = await FakeHost.StartAsync(200, "{}");

        var result = await RunAsync("verdict", "r-1", "yes", "--server", host.Url);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("yes", result.StdErr, StringComparison.Ordinal);
        Assert.Empty(host.Requests);
    }

    [Fact]
    public async Task Toil_WithDrills_ShowsThemApartFromTheTable()
    {
        await using var host = await FakeHost.StartAsync(200, Report.Replace("\"total\":{", "\"drills\":{\"runs\":2,\"proposed\":1,\"failed\":1,\"automatedMinutes\":0.4,\"humanMinutes\":0},\"total\":{", StringComparison.Ordinal));

        var result = await RunAsync("toil", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("drills (not in the savings): 2 runs, 1 proposed, 1 failed, 0.4 automated min", result.StdOut, StringComparison.Ordinal);
    }

    private static Task<CliResult> RunAsync(params string[] arguments) =>
        Cli.RunAsync(Path.GetTempPath(), Path.Combine(Path.GetTempPath(), "runbook-cli-host-tests-cache"), null, arguments);

    /// <summary>The cells of each table line that holds text (header, rows, total), trimmed; border lines left out.</summary>
    private static List<string[]> Rows(string output) =>
        [.. output.Split('\n')
            .Where(line => line.StartsWith('│'))
            .Select(line => line.Trim().Trim('│').Split('│').Select(cell => cell.Trim()).ToArray())];

    /// <summary>A request as the fake host received it.</summary>
    private sealed record HostRequest(string Method, string Path, string Query, string Body);

    /// <summary>A host on a free loopback port that gives every request the same answer and keeps what it was sent.</summary>
    private sealed class FakeHost(int status, string body, string contentType) : LoopbackHttpServer
    {
        private readonly ConcurrentQueue<HostRequest> _requests = new();

        public string Url => Address.ToString();

        public IReadOnlyList<HostRequest> Requests => [.. _requests];

        public static Task<FakeHost> StartAsync(int status, string body, string contentType = "application/json")
        {
            var host = new FakeHost(status, body, contentType);
            host.Listen();
            return Task.FromResult(host);
        }

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            using (var reader = new StreamReader(context.Request.InputStream))
            {
                var text = await reader.ReadToEndAsync();
                _requests.Enqueue(new HostRequest(context.Request.HttpMethod, Uri.UnescapeDataString(context.Request.Url!.AbsolutePath), context.Request.Url.Query, text));
            }

            context.Response.StatusCode = status;
            context.Response.ContentType = contentType;
            await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
        }
    }
}
