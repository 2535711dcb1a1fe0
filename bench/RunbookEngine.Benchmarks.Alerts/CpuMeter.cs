using System.Diagnostics;
using System.Globalization;

namespace RunbookEngine.Benchmarks.Alerts;

/// <summary>
/// Where the CPU goes during a phase, read from /proc (Linux): the host process, the PostgreSQL server (postmaster and
/// its backends, including exited ones through the postmaster's reaped-children time), this benchmark process, and the
/// whole machine, so load from anything else on the machine shows as "other". Figures are in % of one core.
/// </summary>
internal sealed class CpuMeter
{
    // USER_HZ; 100 on every mainstream Linux build.
    private const double TicksPerSecond = 100;

    private readonly int? _hostPid;
    private readonly int? _postmasterPid;

    private CpuMeter(int? hostPid, int? postmasterPid)
    {
        _hostPid = hostPid;
        _postmasterPid = postmasterPid;
    }

    /// <summary>Finds the host by its --urls argument and the postmaster by its -p argument.</summary>
    public static CpuMeter Find(Uri hostAddress, int postgresPort)
    {
        int? host = null;
        int? postmaster = null;
        foreach (var pid in Pids())
        {
            var args = CommandLine(pid);
            if (args.Length == 0)
            {
                continue;
            }

            if (args.Any(a => a.EndsWith("RunbookEngine.Host.dll", StringComparison.Ordinal))
                && args.Any(a => a == hostAddress.GetLeftPart(UriPartial.Authority)))
            {
                host = pid;
            }

            var portAt = Array.IndexOf(args, "-p");
            if (Path.GetFileName(args[0]) == "postgres" && portAt >= 0 && portAt + 1 < args.Length
                && args[portAt + 1] == postgresPort.ToString(CultureInfo.InvariantCulture))
            {
                postmaster = pid;
            }
        }

        return new CpuMeter(host, postmaster);
    }

    public bool Complete => _hostPid is not null && _postmasterPid is not null;

    public Sample Take()
    {
        var (busy, total) = MachineTicks();
        return new Sample(
            Stopwatch.GetTimestamp(),
            _hostPid is { } host ? ProcessTicks(host, withChildren: true) : 0,
            _postmasterPid is { } postmaster ? PostgresTicks(postmaster) : 0,
            ProcessTicks(Environment.ProcessId, withChildren: true),
            busy,
            total);
    }

    /// <summary>"host 120% / postgres 50% / benchmark 20% / other 5% / machine 195% of 200%, over 40.0 s".</summary>
    public string Describe(Sample from, Sample to)
    {
        var seconds = Stopwatch.GetElapsedTime(from.Timestamp, to.Timestamp).TotalSeconds;
        double Percent(long ticks) => ticks / TicksPerSecond / seconds * 100;
        var host = Percent(to.Host - from.Host);
        var postgres = Percent(to.Postgres - from.Postgres);
        var bench = Percent(to.Bench - from.Bench);
        var machineShare = to.MachineTotal == from.MachineTotal ? 0 : (double)(to.MachineBusy - from.MachineBusy) / (to.MachineTotal - from.MachineTotal);
        var machine = machineShare * Environment.ProcessorCount * 100;
        var other = Math.Max(0, machine - host - postgres - bench);
        string P(double v) => v.ToString("0", CultureInfo.InvariantCulture) + "%";
        var postgresText = _postmasterPid is null ? "n/a" : P(postgres);
        return $"host {P(host)} / postgres {postgresText} / benchmark {P(bench)} / other {P(other)} / machine {P(machine)} of {P(Environment.ProcessorCount * 100)}, over {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s";
    }

    private static IEnumerable<int> Pids()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                yield return pid;
            }
        }
    }

    private static string[] CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The fields of /proc/{pid}/stat after the command name: [0] is field 3 (state), [1] ppid, [11] utime.</summary>
    private static string[]? Stat(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/stat");
            return text[(text.LastIndexOf(')') + 2)..].Split(' ');
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long Field(string[] stat, int index) => long.Parse(stat[index], CultureInfo.InvariantCulture);

    private static long ProcessTicks(int pid, bool withChildren)
    {
        if (Stat(pid) is not { } stat)
        {
            return 0;
        }

        var own = Field(stat, 11) + Field(stat, 12);
        return withChildren ? own + Field(stat, 13) + Field(stat, 14) : own;
    }

    private static long PostgresTicks(int postmaster)
    {
        var total = ProcessTicks(postmaster, withChildren: true);
        foreach (var pid in Pids())
        {
            if (Stat(pid) is { } stat && Field(stat, 1) == postmaster)
            {
                total += Field(stat, 11) + Field(stat, 12);
            }
        }

        return total;
    }

    private static (long Busy, long Total) MachineTicks()
    {
        var cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();

        // user nice system idle iowait irq softirq steal (guest time is already counted in user).
        var total = cpu.Take(8).Sum();
        return (total - cpu[3] - cpu[4], total);
    }

    internal readonly record struct Sample(long Timestamp, long Host, long Postgres, long Bench, long MachineBusy, long MachineTotal);
}
