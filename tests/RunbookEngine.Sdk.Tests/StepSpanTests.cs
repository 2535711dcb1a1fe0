using System.Diagnostics;

namespace RunbookEngine.Sdk.Tests;

/// <summary>A span per step, where the step runs: what a host listening to the <c>RunbookEngine</c> source receives.</summary>
public sealed class StepSpanTests : IDisposable
{
    // Tests run in parallel and a listener hears every test's steps: each test keeps to its own trace.
    private static readonly ActivitySource TestSource = new("RunbookEngine.Sdk.Tests");
    private readonly List<Activity> _ended = [];
    private readonly ActivityListener _listener;

    public StepSpanTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "RunbookEngine" or "RunbookEngine.Sdk.Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                lock (_ended)
                {
                    _ended.Add(activity);
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public async Task Each_step_is_one_span_under_the_current_span_with_its_outcome()
    {
        var context = Some.Context();
        using var run = TestSource.StartActivity("run")!;

        await context.Step("first", _ => Task.CompletedTask);
        var inner = await context.Step("second", _ => Task.FromResult(Activity.Current?.DisplayName));
        await Assert.ThrowsAsync<StepFailedException>(() => context.Step("third", _ => throw new IOException("disk on fire"), retries: 1));
        run.Stop();

        var steps = Spans(run).Where(s => s != run).ToList();
        Assert.Equal(["first", "second", "third"], steps.Select(s => s.DisplayName));
        Assert.All(steps, s => Assert.Equal(run.SpanId, s.ParentSpanId));
        Assert.Equal("second", inner);
        Assert.Equal(["1", "2", "3"], steps.Select(s => s.GetTagItem("runbook.step.sequence")?.ToString()));
        Assert.All(steps, s => Assert.Equal(("run-1", "test-runbook", "aaaaaaaaaaaa", "Automated"),
            (s.GetTagItem("runbook.run.id"), s.GetTagItem("runbook.name"), s.GetTagItem("runbook.version"), s.GetTagItem("runbook.step.kind"))));
        Assert.Equal(["Succeeded", "Succeeded", "Failed"], steps.Select(s => s.GetTagItem("runbook.step.status")));
        Assert.Equal([ActivityStatusCode.Unset, ActivityStatusCode.Unset, ActivityStatusCode.Error], steps.Select(s => s.Status));
        Assert.Equal("IOException: disk on fire", steps[2].StatusDescription?.Split(" (at ")[0]);
        Assert.Equal((2, "retry"), (steps[2].GetTagItem("runbook.step.attempts"), Assert.Single(steps[2].Events).Name));
    }

    [Fact]
    public async Task A_steps_span_never_shows_a_secret()
    {
        var context = Some.Context(secrets: new DictionarySecrets(("token", "hunter2-secret")));
        using var run = TestSource.StartActivity("run")!;

        await Assert.ThrowsAsync<StepFailedException>(() => context.Step("use the token", _ => throw new InvalidOperationException($"rejected {context.Secrets.Get("token")}")));
        run.Stop();

        var step = Assert.Single(Spans(run), s => s != run);
        Assert.DoesNotContain("hunter2-secret", step.StatusDescription, StringComparison.Ordinal);
        Assert.Contains("rejected", step.StatusDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_step_reused_from_an_earlier_attempt_is_not_a_span_again()
    {
        var journal = new Hosting.InMemoryStepJournal();
        await Some.Context(journal: journal).Step("done before", _ => Task.FromResult(1));
        using var run = TestSource.StartActivity("run")!;

        Assert.Equal(1, await Some.Context(journal: journal).Step("done before", _ => Task.FromResult(2)));
        run.Stop();

        Assert.Equal([run], Spans(run));
    }

    private List<Activity> Spans(Activity run)
    {
        lock (_ended)
        {
            return [.. _ended.Where(a => a.TraceId == run.TraceId)];
        }
    }
}
