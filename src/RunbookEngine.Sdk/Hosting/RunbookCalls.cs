namespace RunbookEngine.Sdk.Hosting;

/// <summary>A command a runbook asked to run, as the host's command runner receives it.</summary>
/// <param name="Argv">The program and its arguments, unredacted (the runner runs them).</param>
/// <param name="Display">The command line for people, secrets masked.</param>
/// <param name="WorkingDirectory">Where it runs; the current directory when null.</param>
/// <param name="Environment">Extra environment variables.</param>
/// <param name="ReadOnly">Whether the runbook declared it read-only.</param>
/// <param name="Timeout">Its timeout, if any.</param>
/// <param name="Step">The step running it, or null at the top level.</param>
public sealed record CommandCall(
    IReadOnlyList<string> Argv,
    string Display,
    string? WorkingDirectory,
    IReadOnlyDictionary<string, string>? Environment,
    bool ReadOnly,
    TimeSpan? Timeout,
    string? Step);

/// <summary>Runs a runbook's commands in place of real processes: test cases give stubbed results this way.</summary>
public interface ICommandRunner
{
    /// <summary>Runs (or answers for) one command.</summary>
    /// <param name="command">The command.</param>
    /// <param name="cancellationToken">Cancels it.</param>
    /// <returns>What it did; <see cref="ShellResult.CommandLine"/> should be <see cref="CommandCall.Display"/>.</returns>
    Task<ShellResult> RunAsync(CommandCall command, CancellationToken cancellationToken);
}

/// <summary>One HTTP exchange a runbook made through <see cref="RunbookContext.Http"/>.</summary>
/// <param name="Method">The request method.</param>
/// <param name="Url">The request URL, secrets masked.</param>
/// <param name="Status">The response status code; 0 when no response came.</param>
/// <param name="Body">The response body as text, capped and masked; or why no response came.</param>
/// <param name="ContentType">The response's media type, if any.</param>
/// <param name="Duration">How long the exchange took.</param>
public sealed record HttpCall(string Method, string Url, int Status, string Body, string? ContentType, TimeSpan Duration);

/// <summary>Where a host keeps what a run's commands and HTTP calls returned, so a test case can be recorded from a real run.</summary>
public interface ICallRecorder
{
    /// <summary>A command ran.</summary>
    /// <param name="stepSequence">The step's sequence number, 0 at the top level.</param>
    /// <param name="command">The command.</param>
    /// <param name="result">What it returned (masked).</param>
    void Command(int stepSequence, CommandCall command, ShellResult result);

    /// <summary>An HTTP exchange ended.</summary>
    /// <param name="stepSequence">The step's sequence number, 0 at the top level.</param>
    /// <param name="exchange">The exchange.</param>
    void Http(int stepSequence, HttpCall exchange);
}
