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

    /// <summary>Runs every case of the folder and returns the process exit code; call <see cref="Environment.Exit"/> with it.</summary>
    /// <param name="configuration">The configuration, with <see cref="FolderKey"/>; <c>RunbookEngine:DataPath</c> names the compile cache.</param>
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

        // The host compiled these runbooks a moment ago for the same check: its cache makes this a load, not a compile.
        using var compiler = new RunbookCompiler(Path.Combine(options.DataPath, "compiled"));
        var runner = new TestCaseRunner(compiler, TimeProvider.System);
        foreach (var file in TestCaseRunner.FindCases(folder))
        {
            var relative = Path.GetRelativePath(folder, file).Replace(Path.DirectorySeparatorChar, '/');
            Write(output, mark, "case-start", relative);
            CaseOutcome outcome;
            try
            {
                var result = await runner.RunAsync(folder, file, CancellationToken.None);
                outcome = new CaseOutcome(relative, result.Runbook, result.Name, result.Failures);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // The runner reports a case's own faults as failures; this is what it did not expect, told as one too.
                outcome = new CaseOutcome(relative, Path.GetFileName(Path.GetDirectoryName(file)) ?? "", Path.GetFileNameWithoutExtension(file),
                    [new CaseFailure($"the case could not run: {ex.GetType().Name}: {ex.Message}", 1)]);
            }

            Write(output, mark, "case", JsonSerializer.Serialize(outcome, CaseProcess.Json));
        }

        Write(output, mark, "done", "");
        return 0;
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
