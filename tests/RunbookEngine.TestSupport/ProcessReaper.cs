using System.Diagnostics;

namespace RunbookEngine.TestSupport;

/// <summary>
/// Ends what a test process started once the test process is gone, however it went: a fixture that failed half way, an
/// unhandled exception, or the runner killing it after a timeout (SIGKILL, where no exit handler runs). From the first
/// <see cref="Watch"/> on, every process the test process starts, and every process those start, carries the test
/// process's tag in its environment; a watcher in a session of its own waits for the end of a pipe only the test process
/// holds, runs the commands registered with <see cref="AtExit"/>, then kills every process still carrying the tag.
/// </summary>
public static class ProcessReaper
{
    /// <summary>The environment variable that tags the processes a test process started.</summary>
    public const string TagVariable = "RUNBOOKENGINE_TEST_OWNER";

    // The reaper's input: nothing is ever written to it; the kernel closes it when this process ends, in any way.
    private static readonly Lazy<(StreamWriter Pipe, string Directory)?> Reaper = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    // $0 the folder of exit commands, $1 the tag. Build servers that a test's dotnet started are left alone: other builds
    // on the machine may be using them.
    private const string Script = """
        exec >/dev/null 2>&1
        cat >/dev/null
        for f in "$0"/*.sh; do [ -f "$f" ] && sh "$f"; done
        for _ in 1 2 3 4 5; do
          pids=$(for p in $(grep -lzxF "$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3); do
            grep -qaE 'MSBuild\.dll|VBCSCompiler|rzc\.dll' "/proc/$p/cmdline" 2>/dev/null || echo "$p"
          done)
          [ -z "$pids" ] && break
          kill -KILL $pids
        done
        rm -rf "$0"
        """;

    /// <summary>The tag of this test process's processes, or null where there is no reaper (not Linux, no setsid).</summary>
    public static string? Tag => Reaper.Value is null ? null : Environment.GetEnvironmentVariable(TagVariable);

    /// <summary>Makes sure the reaper watches this process; processes started from now on are tagged.</summary>
    public static void Watch() => _ = Reaper.Value;

    /// <summary>Registers a shell command the reaper runs when this process is gone, before it kills what is left.</summary>
    /// <param name="name">A name for it, unique in this process (letters, digits and dashes).</param>
    /// <param name="shellCommand">The command, for sh.</param>
    public static void AtExit(string name, string shellCommand)
    {
        if (Reaper.Value is { } reaper)
        {
            File.WriteAllText(Path.Combine(reaper.Directory, name + ".sh"), shellCommand);
        }
    }

    /// <summary>Takes back a command registered with <see cref="AtExit"/>, once this process has done it itself.</summary>
    /// <param name="name">Its name.</param>
    public static void Forget(string name)
    {
        if (Reaper.Value is { } reaper)
        {
            File.Delete(Path.Combine(reaper.Directory, name + ".sh"));
        }
    }

    /// <summary>A word for sh, whatever it holds.</summary>
    /// <param name="word">The word.</param>
    /// <returns>It in single quotes.</returns>
    public static string Quote(string word) => $"'{word.Replace("'", "'\\''", StringComparison.Ordinal)}'";

    private static (StreamWriter, string)? Start()
    {
        if (!OperatingSystem.IsLinux() || (!File.Exists("/usr/bin/setsid") && !File.Exists("/bin/setsid")))
        {
            return null;
        }

        var directory = Directory.CreateTempSubdirectory("runbook-reaper-").FullName;
        var tag = $"{Environment.ProcessId}-{Guid.NewGuid():N}";
        // setsid -f: a session of its own, so a Ctrl+C to the terminal or a kill of the test process's tree misses it.
        var start = new ProcessStartInfo("setsid") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-f", "sh", "-c", Script, directory, $"{TagVariable}={tag}" })
        {
            start.ArgumentList.Add(argument);
        }

        // Untagged, so it does not kill itself; a test process started by another keeps only its own tag.
        start.Environment.Remove(TagVariable);
        var reaper = Process.Start(start)!;
        reaper.WaitForExit();
        Environment.SetEnvironmentVariable(TagVariable, tag);
        return (reaper.StandardInput, directory);
    }
}
