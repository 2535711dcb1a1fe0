using System.Xml.Linq;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Cli.Tests;

/// <summary><c>runbook test</c>: the repository's own cases pass, and a runbook or a case that is wrong fails, naming why.</summary>
public sealed class TestCommandTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task Test_OfTheRepositorysRunbooks_PassesEveryCase()
    {
        var result = await _workspace.RunAsync("test", Repository.Path("runbooks"));

        Assert.True(result.ExitCode == 0, result.ToString());
        foreach (var runbook in new[] { "disk-cleanup", "prune-snapshots", "restart-unhealthy-service", "tls-cert-expiry" })
        {
            Assert.Contains($"✓ {runbook}/", result.StdOut, StringComparison.Ordinal);
        }

        Assert.DoesNotContain("✗", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"\d+ cases: \d+ passed, 0 failed", result.StdOut);
    }

    [Fact]
    public async Task Test_AfterAStepIsRenamed_ExitsOne_NamingTheStep()
    {
        var runbook = Path.Combine(_workspace.Runbooks, "restart-unhealthy-service.csx");
        File.WriteAllText(runbook, File.ReadAllText(runbook).Replace("\"stop stale process\"", "\"stop the old process\"", StringComparison.Ordinal));

        var result = await _workspace.RunAsync("test", "runbooks");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("✗ restart-unhealthy-service/service-down", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("runbooks/tests/restart-unhealthy-service/service-down.yaml:25: step 2: expected 'stop stale process', the run's step 2 is 'stop the old process' (Succeeded)", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ disk-cleanup/old-logs-deleted", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_OfACommandWithNoStub_FailsTheCase_NamingTheCommandAndItsStep()
    {
        var path = Path.Combine(_workspace.Runbooks, "tests", "restart-unhealthy-service", "service-down.yaml");
        File.WriteAllLines(path, File.ReadAllLines(path).Where(line => !line.Contains("kill -TERM", StringComparison.Ordinal)));

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "restart-unhealthy-service");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(
            "service-down.yaml:10: no stub for the command `kill -TERM 4242` in step 'stop stale process'; add it under commands: with run: or match:",
            result.StdOut,
            StringComparison.Ordinal);
        Assert.DoesNotContain("disk-cleanup", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_OfARequestWithNoStub_FailsTheCase_NamingTheUrlAndItsStep()
    {
        WriteCase("restart-unhealthy-service", "wrong-url", """
            alert: { name: ServiceHealthCheckFailing, labels: { job: demo-api }, annotations: { health_url: "http://localhost:8089/healthz" } }
            http:
              - { method: GET, url: "http://localhost:8089/", status: 200 }
            expect:
              status: Succeeded
            """);

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "restart-unhealthy-service");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(
            "wrong-url.yaml:2: no stub for the request `GET http://localhost:8089/healthz` in step 'probe health'; add it under http: with url: or match:",
            result.StdOut,
            StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_OfBrokenCases_FailsEachWithItsLine_AndRunsTheOthers()
    {
        WriteCase("disk-cleanup", "typo", "expect:\n  stauts: Succeeded\n");
        WriteCase("disk-cleanup", "not-yaml", "expect: [unclosed\n");
        WriteCase("disk-cleanup", "lost-payload", "payload: { source: alertmanager, file: payloads/nowhere.json }\nexpect:\n  matches: []\n");
        WriteCase("no-such-runbook", "orphan", "expect:\n  status: Succeeded\n");

        var result = await _workspace.RunAsync("test", "runbooks");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("typo.yaml:2: expect.stauts: unknown key; expect takes matches, parameters, steps, status, error, proposal", result.StdOut, StringComparison.Ordinal);
        Assert.Matches(@"not-yaml\.yaml:\d+: not valid YAML", result.StdOut);
        Assert.Contains("lost-payload.yaml:1: payload.file: cannot read payloads/nowhere.json (beside the case)", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("orphan.yaml:1: no runbook 'no-such-runbook'", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ disk-cleanup/old-logs-deleted", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("4 failed", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_WithGithubFormat_AnnotatesTheCaseFileAtTheLine()
    {
        WriteCase("tls-cert-expiry", "wrong-status", "parameters: { cert_path: nowhere.pem }\nexpect:\n  status: Succeeded\n");

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "tls-cert-expiry", "--format", "github");

        Assert.True(result.ExitCode == 1, result.ToString());
        var annotation = Assert.Single(result.StdOut.Split('\n'), line => line.StartsWith("::error ", StringComparison.Ordinal));
        Assert.StartsWith(
            "::error file=runbooks/tests/tls-cert-expiry/wrong-status.yaml,line=3,title=runbook test tls-cert-expiry/wrong-status::status: expected Succeeded, the run ended Failed",
            annotation,
            StringComparison.Ordinal);
        Assert.Contains("3 cases: 2 passed, 1 failed", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_WithJunitFormat_WritesOneTestCasePerCaseFile()
    {
        WriteCase("tls-cert-expiry", "wrong-status", "parameters: { cert_path: nowhere.pem }\nexpect:\n  status: Succeeded\n");

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "tls-cert-expiry", "--format", "junit");

        Assert.True(result.ExitCode == 1, result.ToString());
        var suites = XDocument.Parse(result.StdOut).Root!;
        Assert.Equal(("testsuites", "3", "1"), (suites.Name.LocalName, suites.Attribute("tests")!.Value, suites.Attribute("failures")!.Value));
        var suite = Assert.Single(suites.Elements("testsuite"));
        Assert.Equal("tls-cert-expiry", suite.Attribute("name")!.Value);
        Assert.Equal(["missing-certificate", "valid-for-long", "wrong-status"], suite.Elements("testcase").Select(c => c.Attribute("name")!.Value));
        var failure = Assert.Single(suite.Descendants("failure"));
        Assert.StartsWith("status: expected Succeeded, the run ended Failed", failure.Attribute("message")!.Value, StringComparison.Ordinal);
        Assert.Equal("wrong-status", failure.Parent!.Attribute("name")!.Value);
        Assert.Contains("3 cases: 2 passed, 1 failed", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Test_WithJunitFormat_DropsCharactersXmlCannotHold_FromTheMessages()
    {
        WriteCase("tls-cert-expiry", "coloured", "parameters: { cert_path: nowhere.pem }\nexpect:\n  steps:\n    - { name: \"\\e[31mred\\e[0m\", status: Succeeded }\n");

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "tls-cert-expiry", "--format", "junit");

        Assert.True(result.ExitCode == 1, result.ToString());
        var failure = Assert.Single(XDocument.Parse(result.StdOut).Descendants("failure"));
        Assert.StartsWith("step 1: expected '[31mred[0m'", failure.Attribute("message")!.Value, StringComparison.Ordinal);
        Assert.Contains("coloured.yaml:4: step 1: expected '[31mred[0m'", failure.Value, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("payload: { source: alertmanager, file: ../../../../etc/hostname }", "payload.file: '../../../../etc/hostname' must be a relative path beside the case")]
    [InlineData("payload: { source: alertmanager, file: /etc/hostname }", "payload.file: '/etc/hostname' must be a relative path beside the case")]
    public async Task Test_OfACaseWhosePayloadIsOutsideItsFolder_FailsWithoutReadingIt(string payload, string message)
    {
        WriteCase("disk-cleanup", "escapes", payload + "\nexpect: { matches: [] }\n");

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "disk-cleanup");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("escapes.yaml:1: " + message, result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Record_WithARunbookNameThatIsAPath_ExitsTwo_WithoutAskingTheHost()
    {
        var result = await _workspace.RunAsync("record", "a-1", "--runbook", "../../escaped", "--server", "http://127.0.0.1:9/");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("--runbook '../../escaped' is not a valid runbook name", result.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Record_WhenTheHostNamesARunbookThatIsAPath_ExitsTwo_AndWritesNothing()
    {
        await using var host = new AlertHost("""{ "runs": [ { "runbook": "../../../escaped" } ] }""");
        host.Start();

        var result = await _workspace.RunAsync("record", "a-1", "--server", host.Address.ToString(), "--dir", "runbooks");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains("started a run of '../../../escaped', which is not a valid runbook name; nothing was written", result.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_workspace.Root, "escaped", "recorded-a-1.yaml")));
        Assert.Equal(["/api/alerts/a-1"], host.Paths);
    }

    [Fact]
    public async Task Test_OfARealAlertmanagerPayload_DecodesItAndChecksWhichRunbooksItStarts()
    {
        var path = Path.Combine(_workspace.Runbooks, "tests", "disk-cleanup", "real-diskfull-from-alertmanager.yaml");
        File.WriteAllText(path, File.ReadAllText(path).Replace("matches: []", "matches: [disk-cleanup]", StringComparison.Ordinal));

        var result = await _workspace.RunAsync("test", "runbooks", "--runbook", "disk-cleanup");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("real-diskfull-from-alertmanager.yaml:7: matches: expected [disk-cleanup], the alert matches []", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ disk-cleanup/old-logs-deleted", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("test", "no-such-folder")]
    [InlineData("test", "runbooks", "--runbook", "no-such-runbook")]
    [InlineData("test", "runbooks", "--format", "xml")]
    [InlineData("record")]
    public async Task Test_UsedWrongly_ExitsTwo(params string[] arguments)
    {
        var result = await _workspace.RunAsync(arguments);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.NotEmpty(result.StdErr);
    }

    public void Dispose() => _workspace.Dispose();

    /// <summary>A host that answers every request with one alert.</summary>
    private sealed class AlertHost(string alert) : LoopbackHttpServer
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _paths = new();

        public IReadOnlyList<string> Paths => [.. _paths];

        public void Start() => Listen();

        protected override async Task HandleAsync(System.Net.HttpListenerContext context)
        {
            _paths.Enqueue(context.Request.Url!.AbsolutePath);
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(alert));
        }
    }

    private void WriteCase(string runbook, string name, string yaml) =>
        _workspace.Write(Path.Combine("runbooks", "tests", runbook, name + ".yaml"), yaml);
}
