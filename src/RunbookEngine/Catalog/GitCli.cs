using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace RunbookEngine.Catalog;

/// <summary>
/// The <c>git</c> command line, run without a terminal. Credentials reach git through an askpass script that reads them
/// from this process's environment for the child only, so they never appear in a command line, a log or an error.
/// </summary>
internal sealed partial class GitCli(string askPassScript, Func<(string? User, string? Password)> credentials)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    public async Task<string> RunAsync(string? workingDirectory, CancellationToken cancellationToken, params string[] arguments)
    {
        var start = new ProcessStartInfo("git")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["GIT_TERMINAL_PROMPT"] = "0";
        start.Environment["GIT_ASKPASS"] = askPassScript;
        start.Environment["LC_ALL"] = "C";
        var (user, password) = credentials();
        start.Environment["RUNBOOKENGINE_GIT_USERNAME"] = user ?? "";
        start.Environment["RUNBOOKENGINE_GIT_PASSWORD"] = password ?? "";

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new GitException("git is not installed or not on PATH; install it (apt-get install -y git)", ex);
        }

        // A git that hangs (a remote that never answers, a lock) must not stall the catalog for good.
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Timeout);
        var output = process.StandardOutput.ReadToEndAsync(limit.Token);
        var error = process.StandardError.ReadToEndAsync(limit.Token);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            if (cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            throw new GitException($"git {Redact(string.Join(' ', arguments))} did not finish within {Timeout.TotalSeconds:0} s and was stopped");
        }

        if (process.ExitCode != 0)
        {
            var message = Redact((await error).Trim());
            throw new GitException($"git {Redact(string.Join(' ', arguments))} failed ({process.ExitCode}): {message}");
        }

        return (await output).TrimEnd('\n');
    }

    /// <summary>Removes user:password@ from URLs in text that may be logged.</summary>
    public static string Redact(string text) => UrlCredentials().Replace(text, "${scheme}***@");

    /// <summary>Writes the askpass script git calls for a user name and a password.</summary>
    public static string WriteAskPass(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "askpass.sh");
        File.WriteAllText(path, """
            #!/bin/sh
            case "$1" in
              Username*) printf '%s\n' "$RUNBOOKENGINE_GIT_USERNAME" ;;
              *) printf '%s\n' "$RUNBOOKENGINE_GIT_PASSWORD" ;;
            esac

            """.Replace("\r\n", "\n", StringComparison.Ordinal), new UTF8Encoding(false));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        return path;
    }

    [GeneratedRegex(@"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")]
    private static partial Regex UrlCredentials();
}

/// <summary>A git command failed; the message says which and why, with credentials removed.</summary>
public sealed class GitException : Exception
{
    /// <summary>Creates the exception.</summary>
    public GitException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public GitException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    /// <param name="inner">The cause.</param>
    public GitException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
