namespace RunbookEngine.Benchmarks.Soak;

/// <summary>
/// A process known by its pid and its start time, written <c>pid@starttime</c> (the same way the soak runbook writes
/// it): pids wrap around at 32,768 on this machine, and a kill -9'd host must not be confused with a later process that
/// got its pid.
/// </summary>
internal static class ProcessIdentity
{
    /// <summary>The identity of a live process, or null when it is gone (or a zombie).</summary>
    public static string? Of(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name (field 2) is in parentheses and may hold spaces; field 22, the start time, is the 20th after it.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return fields[0] == "Z" ? null : $"{pid}@{fields[19]}";
        }
        catch (IOException)
        {
            return null;
        }
    }
}
