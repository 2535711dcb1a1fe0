using System.Globalization;

namespace RunbookEngine.Benchmarks.Dashboard;

/// <summary>The machine's CPU time split from /proc/stat: how busy it was and how much the hypervisor took (steal).</summary>
internal static class Cpu
{
    /// <summary>The counters now (user, nice, system, idle, iowait, irq, softirq, steal), or empty where there is no /proc.</summary>
    public static long[] Take()
    {
        if (!File.Exists("/proc/stat"))
        {
            return [];
        }

        var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        return [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
    }

    /// <summary>Busy, idle and steal between two readings, in % of all cores.</summary>
    public static string Describe(long[] from, long[] to)
    {
        if (from.Length < 8 || to.Length < 8)
        {
            return "n/a";
        }

        var delta = to.Zip(from, (a, b) => (double)(a - b)).ToArray();
        var total = Math.Max(delta.Sum(), 1);
        var idle = delta[3] + delta[4];
        var steal = delta[7];
        return string.Create(CultureInfo.InvariantCulture,
            $"machine {100 * (total - idle - steal) / total:0}% busy, {100 * idle / total:0}% idle, {100 * steal / total:0}% stolen by the hypervisor (of all cores)");
    }
}
