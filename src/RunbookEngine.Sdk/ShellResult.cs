namespace RunbookEngine.Sdk;

/// <summary>What a command run by <see cref="RunbookContext.Shell(ShellCommand, CancellationToken, TimeSpan?, string?, IReadOnlyDictionary{string, string}?, bool, bool)"/> did.</summary>
/// <param name="CommandLine">The program and its arguments, quoted for reading, secrets redacted.</param>
/// <param name="ExitCode">The process exit code; 0 on a dry run.</param>
/// <param name="StdOut">Standard output, capped at <see cref="MaxCapturedLength"/> characters.</param>
/// <param name="StdErr">Standard error, capped at <see cref="MaxCapturedLength"/> characters.</param>
/// <param name="Duration">How long the process ran.</param>
/// <param name="DryRun">True when the command was not run because the run is a dry run.</param>
public sealed record ShellResult(string CommandLine, int ExitCode, string StdOut, string StdErr, TimeSpan Duration, bool DryRun = false)
{
    /// <summary>The most characters kept of each stream; a runaway command cannot exhaust the host's memory.</summary>
    public const int MaxCapturedLength = 1024 * 1024;

    /// <summary>True when the exit code is 0.</summary>
    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws <see cref="RunbookFailedException"/>, naming the command and its error output, unless the exit code is 0.</summary>
    /// <returns>This result, so calls chain.</returns>
    public ShellResult EnsureSuccess() =>
        Succeeded ? this : throw new RunbookFailedException($"`{CommandLine}` exited with {ExitCode}: {FirstLines(StdErr.Length > 0 ? StdErr : StdOut)}");

    private static string FirstLines(string text)
    {
        var trimmed = text.Trim();
        return trimmed.Length <= 500 ? trimmed : trimmed[..500] + "…";
    }
}
