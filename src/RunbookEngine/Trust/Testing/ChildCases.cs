using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using RunbookEngine.Execution;
using RunbookEngine.Scripting.Compilation;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// The host started to run the test cases of one runbook folder (<c>--run-cases=FOLDER</c>), for a pull request's
/// check: <see cref="TestCaseRunner"/> sets the process's working directory while a case runs, and a runbook under test
/// may do anything to its process, so neither may happen in a host that serves runs. It reports, as marked lines on
/// standard output, each case as it starts and as it ends, then <c>done</c>; whatever the runbooks print goes to
/// standard error.
/// </summary>
public static class ChildCases
{
    /// <summary>The configuration key (command line <c>--run-cases=FOLDER</c>) that starts the host in this mode.</summary>
    public const string FolderKey = "run-cases";

    // A failure's message and a case's messages together, in characters: a case's report is one line, read up to 1 MiB.
    private const int MaxMessageLength = 4 * 1024;
    private const int MaxCaseLength = 64 * 1024;

    /// <summary>
    /// Whether the command line starts this mode. Checked before the host builds its configuration: the child's comes
    /// from its command line alone, never the host's appsettings or environment.
    /// </summary>
    /// <param name="args">The command line.</param>
    /// <returns>True for <c>--run-cases=FOLDER</c>.</returns>
    public static bool IsRequested(IEnumerable<string> args) =>
        args?.Any(a => a.StartsWith($"--{FolderKey}=", StringComparison.Ordinal) && a.Length > FolderKey.Length + 3) ?? false;

    /// <summary>Runs every case of the folder and returns the process exit code; call <see cref="Environment.Exit"/> with it.</summary>
    /// <param name="configuration">The command line, with <see cref="FolderKey"/>; <c>RunbookEngine:DataPath</c> names the child's own data folder.</param>
    /// <returns>0 when every case was reported.</returns>
    public static async Task<int> MainAsync(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var mark = Environment.GetEnvironmentVariable(ChildRun.ResultMarkVariable) ?? "";

        // A runbook that prints its environment or starts a process must not be able to forge a result.
        Environment.SetEnvironmentVariable(ChildRun.ResultMarkVariable, null);
        using var output = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false)) { AutoFlush = true };
        Console.SetOut(Console.Error);

        // The parent holds standard input open and writes nothing: its end means the host has gone, and so do the cases,
        // whatever a runbook under test is stuck in. A runbook that reads the console reads nothing.
        var parent = Console.OpenStandardInput();
        Console.SetIn(TextReader.Null);
        _ = Task.Run(() => WaitForParentToGo(parent), CancellationToken.None);

        var folder = Path.GetFullPath(configuration[FolderKey]!);
        var options = configuration.GetSection(RunbookEngineOptions.Section).Get<RunbookEngineOptions>() ?? new RunbookEngineOptions();

        // A cache of its own, thrown away with the check: the host's is not the pull request's to read or to fill.
        using var compiler = new RunbookCompiler(Path.Combine(options.DataPath, "compiled"));
        var runner = new TestCaseRunner(compiler, TimeProvider.System);
        var files = TestCaseRunner.FindCases(folder);

        // Announced first, so that a report lost on the way fails the check instead of shrinking it.
        Write(output, mark, "count", files.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var file in files)
        {
            var relative = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            Write(output, mark, "case-start", relative);
            CaseOutcome outcome;
            try
            {
                var result = await runner.RunAsync(folder, file, CancellationToken.None);
                outcome = Capped(new CaseOutcome(relative, result.Runbook, result.Name, result.Failures));
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The runner reports a case's own faults as failures; this is what it did not expect, told as one too. The
                // check is public: the export's path on the host becomes the case's own.
                var message = ex.Message.Replace(file, relative, StringComparison.Ordinal).Replace(folder, ".", StringComparison.Ordinal);
                outcome = Capped(new CaseOutcome(relative, Path.GetFileName(Path.GetDirectoryName(file)) ?? "", Path.GetFileNameWithoutExtension(file),
                    [new CaseFailure($"the case could not run: {ex.GetType().Name}: {message}", 1)]));
            }

            Write(output, mark, "case", JsonSerializer.Serialize(outcome, CaseProcess.Json));
        }

        Write(output, mark, "done", "");
        return 0;
    }

    /// <summary>Cuts each failure's message, and a case's failures together, to what one report line carries.</summary>
    /// <param name="outcome">The case's outcome.</param>
    /// <returns>The outcome, with the failures past the cap counted in one last failure.</returns>
    internal static CaseOutcome Capped(CaseOutcome outcome)
    {
        var kept = new List<CaseFailure>();
        var length = 0;
        foreach (var failure in outcome.Failures)
        {
            var message = failure.Message.Length > MaxMessageLength ? failure.Message[..MaxMessageLength] + " (cut short)" : failure.Message;
            if (length + message.Length > MaxCaseLength)
            {
                var more = outcome.Failures.Count - kept.Count;
                kept.Add(new CaseFailure(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{more} more failure{(more == 1 ? "" : "s")} not shown"), failure.Line));
                break;
            }

            length += message.Length;
            kept.Add(failure with { Message = message });
        }

        return outcome with { Failures = kept };
    }

    private static void WaitForParentToGo(Stream parent)
    {
        var buffer = new byte[256];
        try
        {
            while (parent.Read(buffer) > 0)
            {
            }
        }
        catch (IOException)
        {
            // A broken pipe is a parent gone too.
        }

        Environment.Exit(ChildRun.ParentGoneExitCode);
    }

    private static void Write(StreamWriter output, string mark, string kind, string payload)
    {
        lock (output)
        {
            output.WriteLine($"{mark} {kind} {payload}");
        }
    }
}
