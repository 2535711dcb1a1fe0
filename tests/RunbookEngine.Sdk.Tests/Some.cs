using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Sdk.Tests;

/// <summary>Builders for test data: one place that knows how to make a valid context.</summary>
internal static class Some
{
    public static RunInfo Run(bool dryRun = false, RunMode mode = RunMode.Auto) =>
        new("run-1", "test-runbook", 1, RunTrigger.Manual, "tester", null, new string('a', 64), dryRun, mode);

    public static RunbookContext Context(
        TimeProvider? time = null,
        IStepJournal? journal = null,
        IHumanGate? gate = null,
        ISecretStore? secrets = null,
        IRunLogSink? sink = null,
        bool dryRun = false,
        RunbookParameters? parameters = null,
        RunMode mode = RunMode.Auto,
        ConfirmSettings? confirm = null,
        HttpMessageHandler? http = null,
        ICallRecorder? calls = null,
        CancellationToken cancellationToken = default) =>
        new(new RunbookContextSettings
        {
            Run = Run(dryRun, mode),
            Confirm = confirm ?? new ConfirmSettings(),
            HttpHandler = http,
            Calls = calls,
            Time = time ?? TimeProvider.System,
            Journal = journal ?? new InMemoryStepJournal(),
            HumanGate = gate,
            Secrets = secrets ?? new DictionarySecrets(),
            LogSink = sink,
            CancellationToken = cancellationToken,
            Parameters = parameters ?? new RunbookParameters(new Dictionary<string, object?>()),
            DefaultBackoff = TimeSpan.FromMilliseconds(1),
        });
}

internal sealed class DictionarySecrets(params (string Name, string Value)[] secrets) : ISecretStore
{
    public string? Find(string name) => secrets.FirstOrDefault(s => s.Name == name).Value;

    public string Describe(string name) => $"add '{name}' to the test's secrets";
}

internal sealed class CollectingCalls : ICallRecorder
{
    public List<HttpCall> Http { get; } = [];

    public void Command(int stepSequence, CommandCall command, ShellResult result)
    {
    }

    void ICallRecorder.Http(int stepSequence, HttpCall exchange)
    {
        lock (Http)
        {
            Http.Add(exchange);
        }
    }
}

/// <summary>An HTTP server at the boundary: answers every request with what the test gives it.</summary>
internal sealed class AnsweringHandler(Func<HttpRequestMessage, HttpContent> answer) : HttpMessageHandler
{
    public List<string> Seen { get; } = [];

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Seen.Add(request.RequestUri!.OriginalString);
        return Task.FromResult(new HttpResponseMessage(System.Net.HttpStatusCode.OK) { Content = answer(request), RequestMessage = request });
    }
}

internal sealed class CollectingSink : IRunLogSink
{
    public List<string> Lines { get; } = [];

    public void Write(Microsoft.Extensions.Logging.LogLevel level, string message, string? stepName)
    {
        lock (Lines)
        {
            Lines.Add(message);
        }
    }
}

internal sealed class ScriptedGate(params HumanResponse[] answers) : IHumanGate
{
    private int _next;

    public List<HumanRequest> Requests { get; } = [];

    public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken)
    {
        Requests.Add(request);
        return Task.FromResult(answers[_next++]);
    }
}

internal sealed class SilentGate : IHumanGate
{
    public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken) => Waiting.UntilCancelled<HumanResponse>(cancellationToken);
}

internal static class Waiting
{
    /// <summary>A task that only ends when the token fires: code that waits on something that never happens.</summary>
    public static Task<T> UntilCancelled<T>(CancellationToken cancellationToken)
    {
        var never = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        cancellationToken.Register(() => never.TrySetCanceled(cancellationToken));
        return never.Task;
    }
}
