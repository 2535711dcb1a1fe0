using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Runs;

/// <summary>
/// Asks by stopping the run: the question is in the journal, and the run resumes when it is answered. A run's own
/// process (isolation: process) asks the same way and reports the question to its host.
/// </summary>
internal sealed class RestingHumanGate : IHumanGate
{
    public HumanRequest? Asked { get; private set; }

    public Task<HumanResponse> AskAsync(HumanRequest request, CancellationToken cancellationToken)
    {
        Asked = request;
        return Task.FromException<HumanResponse>(new AwaitingHumanException(request));
    }
}
