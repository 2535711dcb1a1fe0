using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Cli.Tests;

/// <summary><c>runbook gameday</c> against a host that answers each request with the next of its canned bodies.</summary>
public sealed class GameDayCommandTests
{
    // As the host answers the start: nothing has happened yet, so none of the times is there.
    private const string Started = """
        {"id":"gd-1","runbook":"restart-unhealthy-service","status":"Running","phase":"Injecting","startedBy":"alice",
         "startedAt":"2026-12-05T10:00:00+00:00","node":"n1","log":""}
        """;

    private const string Running = """
        {"id":"gd-1","runbook":"restart-unhealthy-service","status":"Running","phase":"WaitingForAlert","startedBy":"alice",
         "startedAt":"2026-12-05T10:00:00+00:00","injectedAt":"2026-12-05T10:00:00.100+00:00","node":"n1","log":""}
        """;

    private const string Succeeded = """
        {"id":"gd-1","runbook":"restart-unhealthy-service","status":"Succeeded","phase":"Done","startedBy":"alice",
         "startedAt":"2026-12-05T10:00:00+00:00","injectedAt":"2026-12-05T10:00:00.100+00:00","alertId":"a-7","alertAt":"2026-12-05T10:00:03.100+00:00",
         "runId":"r-9","remediatedAt":"2026-12-05T10:00:07.600+00:00","verifiedAt":"2026-12-05T10:00:08.100+00:00","restoredAt":"2026-12-05T10:00:08.300+00:00",
         "finishedAt":"2026-12-05T10:00:08.300+00:00","timeToDetectSeconds":3,"timeToRemediateSeconds":4.5,"timeToRecoverSeconds":8,"node":"n1","log":""}
        """;

    private const string Failed = """
        {"id":"gd-2","runbook":"restart-unhealthy-service","status":"Failed","phase":"WaitingForAlert","startedBy":"alice",
         "startedAt":"2026-12-05T10:00:00+00:00","injectedAt":"2026-12-05T10:00:00.100+00:00","restoredAt":"2026-12-05T10:10:00.300+00:00",
         "error":"no alert arrived within 10m of the injection: is the monitoring path routing ServiceHealthCheckFailing to this host?","node":"n1","log":""}
        """;

    [Fact]
    public async Task Gameday_FollowsTheGameDayPhaseByPhase_ThenShowsTheThreeTimes_AndExitsZero()
    {
        await using var host = await ScriptedHost.StartAsync((202, Started), (200, Running), (200, Succeeded));

        var result = await RunAsync("gameday", "restart-unhealthy-service", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(
            [
                ("POST", "/api/runbooks/restart-unhealthy-service/gamedays"),
                ("GET", "/api/gamedays/gd-1"),
                ("GET", "/api/gamedays/gd-1"),
            ],
            host.Requests.Select(r => (r.Method, r.Path)));
        Assert.Equal(Environment.UserName, JsonDocument.Parse(host.Requests[0].Body).RootElement.GetProperty("by").GetString());
        var lines = result.StdOut.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
        Assert.Equal($"game day gd-1 of restart-unhealthy-service started on {host.Url}", lines[0]);
        Assert.Equal(
            [
                "✓ injecting at 10:00:00 UTC",
                "… waiting for the alert to come through the monitoring",
                "✓ alert a-7 received: detected in 3.0 s, run r-9 started",
                "✓ run succeeded: remediated in 4.5 s",
                "✓ verify passed: recovered in 8.0 s",
                "✓ restored",
                "Succeeded",
            ],
            lines.Skip(1).Take(7));
        Assert.Contains(lines, l => l.Contains("3.0 s", StringComparison.Ordinal) && l.Contains("4.5 s", StringComparison.Ordinal) && l.Contains("8.0 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Gameday_ThatFails_PrintsWhyAndExitsOne()
    {
        await using var host = await ScriptedHost.StartAsync((202, Failed));

        var result = await RunAsync("gameday", "restart-unhealthy-service", "--host", host.Url);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("Failed: no alert arrived within 10m of the injection: is the monitoring path routing ServiceHealthCheckFailing to this host?", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ restored", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Gameday_WithJson_PrintsOnlyTheEndedGameDayOnStandardOutput()
    {
        await using var host = await ScriptedHost.StartAsync((202, Succeeded));

        var result = await RunAsync("gameday", "restart-unhealthy-service", "--json", "--server", host.Url);

        Assert.True(result.ExitCode == 0, result.ToString());
        var gameDay = JsonDocument.Parse(result.StdOut).RootElement;
        Assert.Equal(("gd-1", 4.5), (gameDay.GetProperty("id").GetString(), gameDay.GetProperty("timeToRemediateSeconds").GetDouble()));
        Assert.Contains("remediated in 4.5 s", result.StdErr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(400, 2, "runbook 'hello' has no `gameday:` block in its front matter")]
    [InlineData(404, 2, "no runbook 'hello'")]
    [InlineData(409, 1, "game day gd-1 of 'hello' (started by bob) is still waiting for the alert; one at a time per runbook")]
    public async Task Gameday_WhenTheHostRefuses_PrintsItsErrorAndExitsWithTheUsualCode(int status, int exitCode, string error)
    {
        await using var host = await ScriptedHost.StartAsync((status, JsonSerializer.Serialize(new { error })));

        var result = await RunAsync("gameday", "hello", "--server", host.Url);

        Assert.True(result.ExitCode == exitCode, result.ToString());
        Assert.Contains($"refused the game day ({status}): {error}", result.StdErr, StringComparison.Ordinal);
        Assert.Equal("", result.StdOut);
    }

    private static Task<CliResult> RunAsync(params string[] arguments) =>
        Cli.RunAsync(Path.GetTempPath(), Path.Combine(Path.GetTempPath(), "runbook-cli-host-tests-cache"), null, arguments);

    /// <summary>A request as the host received it.</summary>
    private sealed record HostRequest(string Method, string Path, string Body);

    /// <summary>A host on a free loopback port that answers each request with the next canned answer (the last one again once they run out).</summary>
    private sealed class ScriptedHost((int Status, string Body)[] answers) : LoopbackHttpServer
    {
        private readonly ConcurrentQueue<HostRequest> _requests = new();
        private int _next;

        public string Url => Address.ToString();

        public IReadOnlyList<HostRequest> Requests => [.. _requests];

        public static Task<ScriptedHost> StartAsync(params (int Status, string Body)[] answers)
        {
            var host = new ScriptedHost(answers);
            host.Listen();
            return Task.FromResult(host);
        }

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            using (var reader = new StreamReader(context.Request.InputStream))
            {
                _requests.Enqueue(new HostRequest(context.Request.HttpMethod, Uri.UnescapeDataString(context.Request.Url!.AbsolutePath), await reader.ReadToEndAsync()));
            }

            var (status, body) = answers[Math.Min(_next++, answers.Length - 1)];
            context.Response.StatusCode = status;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(body));
        }
    }
}
