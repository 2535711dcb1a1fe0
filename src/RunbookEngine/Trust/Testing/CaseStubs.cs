using System.Net;
using System.Net.Http.Headers;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Picks the stub for a call: of the stubs that answer it, the first not used yet, else the last of them again, so a
/// list of answers plays out in order and its last answer repeats (a health check that keeps failing).
/// </summary>
internal sealed class StubQueue<T>(IReadOnlyList<T> stubs)
    where T : class
{
    private readonly HashSet<int> _used = [];
    private readonly Lock _gate = new();

    public T? Take(Func<T, bool> answers)
    {
        lock (_gate)
        {
            var last = -1;
            for (var i = 0; i < stubs.Count; i++)
            {
                if (!answers(stubs[i]))
                {
                    continue;
                }

                if (_used.Add(i))
                {
                    return stubs[i];
                }

                last = i;
            }

            return last < 0 ? null : stubs[last];
        }
    }
}

/// <summary>A call a case has no stub for: it fails the case, naming the call and its step.</summary>
/// <param name="message">Which call, and where.</param>
internal sealed class UnstubbedCallException(string message) : Exception(message);

/// <summary>Answers a case's commands from its stubs; no process is ever started.</summary>
internal sealed class CaseCommands(IReadOnlyList<CommandStub> stubs, List<CaseFailure> unstubbed, int line) : ICommandRunner
{
    private readonly StubQueue<CommandStub> _stubs = new(stubs);

    public Task<ShellResult> RunAsync(CommandCall command, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(command);
        cancellationToken.ThrowIfCancellationRequested();
        if (_stubs.Take(stub => stub.Answers(command.Display)) is not { } stub)
        {
            var message = $"no stub for the command `{command.Display}`{(command.Step is { } step ? $" in step '{step}'" : " (outside any step)")}; add it under commands: with run: or match:";
            lock (unstubbed)
            {
                unstubbed.Add(new CaseFailure(message, line));
            }

            throw new UnstubbedCallException(message);
        }

        return Task.FromResult(new ShellResult(command.Display, stub.Exit, stub.StdOut, stub.StdErr, TimeSpan.Zero));
    }
}

/// <summary>Answers a case's HTTP requests from its stubs; nothing goes to the network.</summary>
internal sealed class CaseHttp(IReadOnlyList<HttpStub> stubs, List<CaseFailure> unstubbed, int line, Func<string?> step) : HttpMessageHandler
{
    private readonly StubQueue<HttpStub> _stubs = new(stubs);

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        cancellationToken.ThrowIfCancellationRequested();
        var method = request.Method.Method;
        var url = request.RequestUri?.ToString() ?? "";
        if (_stubs.Take(stub => stub.Answers(method, url)) is not { } stub)
        {
            var message = $"no stub for the request `{method} {url}`{(step() is { } name ? $" in step '{name}'" : " (outside any step)")}; add it under http: with url: or match:";
            lock (unstubbed)
            {
                unstubbed.Add(new CaseFailure(message, line));
            }

            throw new UnstubbedCallException(message);
        }

        if (stub.Status == 0)
        {
            // A recorded exchange that got no answer (refused, timed out) plays back as the same kind of failure.
            throw new HttpRequestException($"the case's stub for {method} {url} gives no answer{(stub.Body.Length > 0 ? ": " + stub.Body : "")}");
        }

        var content = new StringContent(stub.Body);
        content.Headers.ContentType = stub.ContentType is { } type && MediaTypeHeaderValue.TryParse(type, out var parsed) ? parsed : null;
        return Task.FromResult(new HttpResponseMessage((HttpStatusCode)stub.Status) { Content = content, RequestMessage = request });
    }
}

/// <summary>Answers a case's manual steps and approvals in the order the case gives them.</summary>
internal sealed class CaseHumans(IReadOnlyList<HumanAnswer> answers, List<CaseFailure> unstubbed, int line) : IHumanGate
{
    private int _next;

    public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var index = Interlocked.Increment(ref _next) - 1;
        if (index >= answers.Count)
        {
            var message = $"no answer for the {(request.Kind == StepKind.Approval ? "approval" : "manual step")} '{request.Text}' (step {request.Sequence}); add one under humans:";
            lock (unstubbed)
            {
                unstubbed.Add(new CaseFailure(message, line));
            }

            return Task.FromResult(new HumanResponse(false, "test-case", "the case gives no answer"));
        }

        var answer = answers[index];
        return Task.FromResult(new HumanResponse(answer.Approved, answer.By, answer.Comment));
    }
}

/// <summary>The case's secrets and no others: a case never reads the machine's environment.</summary>
internal sealed class CaseSecrets(IReadOnlyDictionary<string, string> secrets) : ISecretStore
{
    public string? Find(string name) => secrets.GetValueOrDefault(name);

    public string Describe(string name) => $"add {name} under the case's secrets:";
}

/// <summary>
/// The run's journal, in memory, which also knows the step running now, so an unstubbed request can say where it was
/// made (steps do not nest, so the latest started and not finished is the one).
/// </summary>
internal sealed class CaseJournal : IStepJournal
{
    private readonly InMemoryStepJournal _inner = new();
    private readonly List<StepOutcome> _running = [];

    public string? Current
    {
        get
        {
            lock (_running)
            {
                return _running.Count == 0 ? null : _running[^1].Name;
            }
        }
    }

    public ValueTask<StepOutcome?> FindAsync(int sequence, CancellationToken cancellationToken) => _inner.FindAsync(sequence, cancellationToken);

    public ValueTask StepStartedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        lock (_running)
        {
            _running.Add(outcome);
        }

        return _inner.StepStartedAsync(outcome, cancellationToken);
    }

    public ValueTask StepFinishedAsync(StepOutcome outcome, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(outcome);
        lock (_running)
        {
            _running.RemoveAll(step => step.Sequence == outcome.Sequence);
        }

        return _inner.StepFinishedAsync(outcome, cancellationToken);
    }
}
