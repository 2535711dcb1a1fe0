using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.Trust;

public sealed class TestCaseRecordingTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 24, 1, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Write_ReadsBackAsACaseWithTheCallsAsStubsInOrder_AndTheRunAsItsExpectation()
    {
        var alert = new RunbookAlert("alertmanager", "ServiceHealthCheckFailing", AlertStatus.Firing, "critical",
            new Dictionary<string, string> { ["job"] = "demo-service", ["severity"] = "critical" },
            new Dictionary<string, string> { ["health_url"] = "http://127.0.0.1:8089/", ["summary"] = "it's down: \"really\" # not a comment" },
            At, null, "fp-1");
        var steps = new[]
        {
            Step(1, "probe health", StepStatus.Failed),
            Step(2, "stop stale process", StepStatus.Succeeded),
            Step(3, "Approve: Restart it?", StepStatus.Succeeded, StepKind.Approval, "bob", "go: ahead"),
        };
        var calls = new[]
        {
            Call(1, RecordedCall.HttpKind, "GET http://127.0.0.1:8089/", 503, "down\n", "text/plain"),
            Call(2, RecordedCall.CommandKind, "kill -0 4242", 1, "", "bash: kill: (4242) - No such process\n"),
            Call(3, RecordedCall.CommandKind, "echo '- yes: no'", 0, "- yes: no\n\n  indented\n", null),
            Call(4, RecordedCall.HttpKind, "GET http://127.0.0.1:8089/", 0, "Connection refused (127.0.0.1:8089)", null),
        };

        var yaml = TestCaseRecording.Write(new RecordedRun("a-1", alert, "restart-unhealthy-service", "r-1", RunStatus.Succeeded,
            new Dictionary<string, string> { ["health_url"] = "http://127.0.0.1:8089/", ["token"] = "***", ["retries"] = "3" }, steps, calls));
        var read = TestCaseReader.Parse("/cases/tests/restart-unhealthy-service/recorded.yaml", yaml);

        Assert.Equal(("restart-unhealthy-service", "recorded"), (read.Runbook, read.Name));
        Assert.Equal(alert with { RawPayload = null }, read.Alert! with { Labels = alert.Labels, Annotations = alert.Annotations });
        Assert.Equal(alert.Labels, read.Alert!.Labels);
        Assert.Equal(alert.Annotations, read.Alert.Annotations);
        Assert.Equal(
            [("kill -0 4242", 1, "", "bash: kill: (4242) - No such process\n"), ("echo '- yes: no'", 0, "- yes: no\n\n  indented\n", "")],
            read.Commands.Select(c => (c.Run!, c.Exit, c.StdOut, c.StdErr)));
        Assert.Equal(
            [("GET", "http://127.0.0.1:8089/", 503, "down\n", "text/plain"), ("GET", "http://127.0.0.1:8089/", 0, "Connection refused (127.0.0.1:8089)", null)],
            read.Http.Select(h => (h.Method, h.Url!, h.Status, h.Body, h.ContentType)));
        Assert.Equal([new HumanAnswer(true, "bob", "go: ahead", read.Humans[0].Line)], read.Humans);
        Assert.Equal(new Dictionary<string, string> { ["health_url"] = "http://127.0.0.1:8089/", ["retries"] = "3" }, read.Expect.Parameters);
        Assert.Equal([("probe health", "Failed"), ("stop stale process", "Succeeded"), ("Approve: Restart it?", "Succeeded")], read.Expect.Steps!.Select(s => (s.Name, s.Status!)));
        Assert.Equal("Succeeded", read.Expect.Status);
    }

    [Theory]
    [InlineData("expect: { status: Done }", 1, "expect.status: 'Done' is not a run status; use one of Queued, Running, WaitingForHuman, Succeeded, Failed, Cancelled, TimedOut, Proposed")]
    [InlineData("commands:\n  - { exit: 0 }\nexpect: {}", 2, "commands[0]: give run: (the exact text) or match: (a regular expression), one of them")]
    [InlineData("commands:\n  - { match: '([', exit: 0 }\nexpect: {}", 2, "commands[0].match: not a regular expression")]
    [InlineData("http:\n  - { url: 'http://x/', status: 999 }\nexpect: {}", 2, "http[0].status: 999 is not an HTTP status (100-599, or 0 for no answer)")]
    [InlineData("files:\n  - { path: ../outside, content: x }\nexpect: {}", 2, "files[0].path: '../outside' must be a relative path inside the case's scratch folder")]
    [InlineData("files:\n  - { path: old.log, age: last week }\nexpect: {}", 2, "files[0].age: 'last week' is not a duration; use 10m, 1h30m or 00:10:00")]
    [InlineData("alert: { name: X }\npayload: { source: alertmanager, file: a.json }\nexpect: {}", 2, "give either alert: or payload:, not both")]
    [InlineData("payload: { source: nagios, file: a.json }\nexpect: {}", 1, "payload.source: no alert source 'nagios'")]
    [InlineData("payload: { source: alertmanager, file: ../../etc/passwd }\nexpect: {}", 1, "payload.file: '../../etc/passwd' must be a relative path beside the case, without '..'")]
    [InlineData("payload: { source: alertmanager, file: /etc/passwd }\nexpect: {}", 1, "payload.file: '/etc/passwd' must be a relative path beside the case, without '..'")]
    [InlineData("humans:\n  - { answer: maybe }\nexpect: {}", 2, "humans[0].answer: 'maybe' is not approve, done or reject")]
    [InlineData("description: no expectation", 1, "the case has no expect: (what the run must do)")]
    public void Parse_OfABadCase_SaysWhatAndWhere(string yaml, int line, string message)
    {
        var error = Assert.Throws<TestCaseException>(() => TestCaseReader.Parse("/cases/tests/some-runbook/bad.yaml", yaml));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
        Assert.Equal(line, error.Line);
    }

    [Fact]
    public void Write_OfARunThatSucceededOnItsSecondAttempt_ReplaysOnlyTheCallsOfTheAttemptThatLastRanEachStep()
    {
        var calls = new[]
        {
            new RecordedCall(1, 1, 1, RecordedCall.CommandKind, "df /var", 0, "91%\n", null, TimeSpan.Zero, At),
            new RecordedCall(1, 2, 2, RecordedCall.HttpKind, "GET http://svc/health", 503, "down", null, TimeSpan.Zero, At),
            new RecordedCall(2, 3, 2, RecordedCall.HttpKind, "GET http://svc/health", 200, "up", null, TimeSpan.Zero, At),
            new RecordedCall(2, 4, 3, RecordedCall.CommandKind, "echo done", 0, "done\n", null, TimeSpan.Zero, At),
        };

        var read = TestCaseReader.Parse("/cases/tests/svc/recorded.yaml", TestCaseRecording.Write(Recorded(RunStatus.Succeeded, calls)));

        // Step 1 succeeded on attempt 1 and was replayed from the journal on attempt 2: its call is only in attempt 1.
        Assert.Equal(["df /var", "echo done"], read.Commands.Select(c => c.Run!));
        Assert.Equal([200], read.Http.Select(h => h.Status));
    }

    [Fact]
    public void Write_OfAProposedRun_ExpectsItsProposal_AndSaysWhenCallsWereNotKept()
    {
        var calls = new[]
        {
            new RecordedCall(1, 1, 1, RecordedCall.CommandKind, "true", 0, "", null, TimeSpan.Zero, At),
            new RecordedCall(1, 2, 0, RecordedCall.OmittedKind, "7 later calls of attempt 1 were not kept", 7, "", null, TimeSpan.Zero, At),
        };

        var read = TestCaseReader.Parse("/cases/tests/svc/recorded.yaml", TestCaseRecording.Write(Recorded(RunStatus.Proposed, calls) with { Proposal = "restart it" }));

        Assert.Equal(("Proposed", "restart it"), (read.Expect.Status, read.Expect.Proposal));
        Assert.Equal(["true"], read.Commands.Select(c => c.Run!));
        Assert.Contains("7 of its calls were not recorded (at most 500 an attempt), so stub those by hand", read.Description, StringComparison.Ordinal);
    }

    private static RecordedRun Recorded(RunStatus status, IReadOnlyList<RecordedCall> calls) => new(
        "a-1",
        new RunbookAlert("alertmanager", "Down", AlertStatus.Firing, null, new Dictionary<string, string>(), new Dictionary<string, string>(), At, null, "fp"),
        "svc",
        "r-1",
        status,
        new Dictionary<string, string>(),
        [Step(1, "measure", StepStatus.Succeeded), Step(2, "probe", StepStatus.Succeeded), Step(3, "finish", StepStatus.Succeeded)],
        calls);

    private static StepOutcome Step(int sequence, string name, StepStatus status, StepKind kind = StepKind.Automated, string actor = StepOutcome.MachineActor, string? comment = null) =>
        new(sequence, name, kind, status, At, At.AddSeconds(1), 1, "", null, actor, Comment: comment);

    private static RecordedCall Call(int sequence, string kind, string request, int status, string output, string? errorOutput) =>
        new(1, sequence, sequence, kind, request, status, output, errorOutput, TimeSpan.FromMilliseconds(5), At);
}
