using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Tests;

public sealed class ExecutorTests
{
    private static readonly RunbookCompiler Compiler = new(null);

    [Fact]
    public async Task Execute_OfAScriptThatThrows_FailsWithTheScriptLine()
    {
        var result = await Run("await Step(\"fine\", ct => Task.CompletedTask);\nvar items = new int[0];\nvar first = items[3];");

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.Equal("IndexOutOfRangeException: Index was outside the bounds of the array. (at test.csx:6)", result.Error);
        Assert.Equal(StepStatus.Succeeded, result.Steps.Single().Status);
    }

    [Fact]
    public async Task Execute_OfAFailingStep_FailsTheRunWithTheStepsReason()
    {
        var result = await Run("await Step(\"check\", ct => throw new RunbookFailedException(\"replica lag 40s\"));");

        Assert.Equal((RunStatus.Failed, "step 'check' failed: replica lag 40s (at test.csx:4)"), (result.Status, result.Error));
    }

    [Fact]
    public async Task Execute_OfAScriptThatIgnoresItsToken_TimesOutAtTheRunbookTimeout()
    {
        var time = new FakeTimeProvider();
        var inStep = new WaitingSink();
        var request = await Prepare("await Step(\"ignores cancellation\", ct => { Log.Info(\"in\"); return new TaskCompletionSource().Task; });", "description: hangs\ntimeout: 2m", time);

        var run = RunbookExecutor.ExecuteAsync(new RunRequest { Runbook = request.Runbook, Definition = request.Definition, Run = request.Run, Time = time, LogSink = inStep, CancellationGrace = TimeSpan.FromMilliseconds(50) }, CancellationToken.None);
        await inStep.Started.Task;
        time.Advance(TimeSpan.FromMinutes(2));
        var result = await run;

        Assert.Equal((RunStatus.TimedOut, "the run did not finish within its timeout of 2m"), (result.Status, result.Error));
        Assert.Equal(StepStatus.TimedOut, Assert.Single(result.Steps).Status);
    }

    [Fact]
    public async Task Execute_WithWhatIsLeftOfTheTimeout_TimesOutThenButNamesTheRunbooksTimeout()
    {
        var time = new FakeTimeProvider();
        var inStep = new WaitingSink();
        var request = await Prepare("await Step(\"ignores cancellation\", ct => { Log.Info(\"in\"); return new TaskCompletionSource().Task; });", "description: hangs\ntimeout: 2m", time);

        var run = RunbookExecutor.ExecuteAsync(
            new RunRequest { Runbook = request.Runbook, Definition = request.Definition, Run = request.Run, Time = time, LogSink = inStep, CancellationGrace = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(30) },
            CancellationToken.None);
        await inStep.Started.Task;
        time.Advance(TimeSpan.FromSeconds(30));
        var result = await run;

        Assert.Equal((RunStatus.TimedOut, "the run did not finish within its timeout of 2m"), (result.Status, result.Error));
    }

    [Fact]
    public async Task Execute_WhenCancelled_IsCancelledAndStepsSaySo()
    {
        using var cancel = new CancellationTokenSource();
        var waiting = new WaitingSink();
        var request = await Prepare("await Step(\"wait\", ct => { Log.Info(\"waiting\"); var never = new TaskCompletionSource(); ct.Register(() => never.TrySetCanceled()); return never.Task; });\nawait Step(\"never\", ct => Task.CompletedTask);");

        var run = RunbookExecutor.ExecuteAsync(new RunRequest { Runbook = request.Runbook, Definition = request.Definition, Run = request.Run, LogSink = waiting }, cancel.Token);
        await waiting.Started.Task;
        await cancel.CancelAsync();
        var result = await run;

        Assert.Equal(RunStatus.Cancelled, result.Status);
        Assert.Equal(StepStatus.Cancelled, Assert.Single(result.Steps).Status);
    }

    [Fact]
    public async Task Execute_OfARejectedApproval_FailsWithWhoRejected()
    {
        var result = await Run("await Approve(\"Go?\");\nawait Step(\"after\", ct => Task.CompletedTask);");

        Assert.Equal(RunStatus.Failed, result.Status);
        Assert.StartsWith("nobody can answer", result.Error, StringComparison.Ordinal);
        Assert.Single(result.Steps);
    }

    private static async Task<RunResult> Run(string body) => await RunbookExecutor.ExecuteAsync(await Prepare(body), CancellationToken.None);

    private static async Task<RunRequest> Prepare(string body, string frontMatter = "description: test", TimeProvider? time = null)
    {
        var (root, path) = Fixture.Runbook(body, frontMatter);
        var source = RunbookSource.Load(root, path);
        var definition = FrontMatterParser.Parse(path, source.Text).Definition!;
        var compiled = await Compiler.CompileAsync(source);
        Assert.True(compiled.Success, string.Join('\n', compiled.Diagnostics));
        return new RunRequest
        {
            Runbook = compiled.Runbook!,
            Definition = definition,
            Run = new RunInfo("run", "test", 1, RunTrigger.Manual, "tests", null, source.ContentHash, false),
            Time = time ?? TimeProvider.System,
        };
    }

    private sealed class WaitingSink : RunbookEngine.Sdk.Hosting.IRunLogSink
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Write(Microsoft.Extensions.Logging.LogLevel level, string message, string? stepName) => Started.TrySetResult();
    }
}
