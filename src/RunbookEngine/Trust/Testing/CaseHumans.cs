using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust.Testing;

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
