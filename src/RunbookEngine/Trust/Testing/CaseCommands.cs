using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust.Testing;

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
