namespace RunbookEngine.Benchmarks.Soak;

/// <summary>
/// The soak's runbook: three journaled idempotent steps that record, outside the engine, every execution of each step,
/// so the guarantees are checked against what ran rather than against what the engine says ran. Every host runs on
/// this machine, so they share the work folder:
/// <list type="bullet">
/// <item><c>runs/&lt;run&gt;.log</c>: <c>start|end &lt;step&gt; &lt;attempt&gt; &lt;pid@starttime&gt; &lt;unix ms&gt;</c>, a line as each step's code starts and ends;</item>
/// <item><c>live/&lt;run&gt;.lock</c>: held while a step's code runs; an execution that finds it held by a live process appends to <c>overlaps.log</c>;</item>
/// <item><c>stale.log</c>: locks left by a process that died (a kill -9 in a step) and cleared by the execution that recovered the run.</item>
/// </list>
/// </summary>
internal static class SoakRunbook
{
    public const string Name = "soak";

    public static readonly string[] Steps = ["one", "two", "three"];

    // The lock is a symbolic link whose target is its owner: it comes into being with its owner in one system call, so
    // a kill -9 can never leave a lock without one (a file created, then written, could be left empty). A lock whose
    // owner is dead is cleared only by the contender that takes its guard (named after the dead owner and never deleted,
    // since that owner never comes back): two executions that both find it cannot both clear it and each believe itself
    // alone. A contender killed while clearing leaves a guard that the next one clears the same way.
    public const string Source = """
        // ---
        // description: Three journaled steps that record each execution of each step in files outside the engine (the soak benchmark)
        // parameters:
        //   work: { type: string, required: true, description: the folder every node of the benchmark shares }
        // ---
        var work = Params.Get<string>("work");
        var runLog = Path.Combine(work, "runs", Run.Id + ".log");
        var lockPath = Path.Combine(work, "live", Run.Id + ".lock");
        var me = Identity(Environment.ProcessId) ?? throw new InvalidOperationException("this process has no /proc entry");

        // pid@starttime: pids wrap around, and a dead owner must not look alive because a new process got its pid.
        string Identity(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                return fields[0] == "Z" ? null : $"{pid}@{fields[19]}";
            }
            catch (IOException)
            {
                return null;
            }
        }

        bool Alive(string owner) => Identity(int.Parse(owner.Split('@')[0], CultureInfo.InvariantCulture)) == owner;

        string Owner(string path) => new FileInfo(path).LinkTarget;

        string Now() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);

        void Append(string path, string line) => File.AppendAllText(path, line + "\n");

        // Takes the lock at `path` for this process; returns null once taken, or the live process that holds it.
        string Acquire(string path, string step)
        {
            for (var tries = 1; ; tries++)
            {
                try
                {
                    File.CreateSymbolicLink(path, me);
                    return null;
                }
                catch (IOException) when (Owner(path) is { } owner)
                {
                    if (Alive(owner))
                    {
                        return owner;
                    }

                    if (Acquire($"{path}.{owner}", step) is { } rival)
                    {
                        return rival;
                    }

                    if (Owner(path) == owner)
                    {
                        File.Delete(path);
                        Append(Path.Combine(work, "stale.log"), $"{Run.Id} {step} {Run.Attempt} {me} cleared {Path.GetFileName(path)} of {owner} {Now()}");
                    }
                }
                catch (IOException) when (Owner(path) is null && tries < 1000)
                {
                    // Released between the two looks: try again (a lock that can never be made fails the step, in the end).
                }
            }
        }

        async Task Soak(string step, CancellationToken ct)
        {
            var holder = Acquire(lockPath, step);
            if (holder is not null)
            {
                Append(Path.Combine(work, "overlaps.log"), $"{Run.Id} {step} {Run.Attempt} {me} while {holder} holds it {Now()}");
            }

            try
            {
                Append(runLog, $"start {step} {Run.Attempt} {me} {Now()}");
                await Task.Delay(Random.Shared.Next(50, 400), ct);
                Append(runLog, $"end {step} {Run.Attempt} {me} {Now()}");
            }
            finally
            {
                if (holder is null && Owner(lockPath) == me)
                {
                    File.Delete(lockPath);
                }
            }
        }

        await Step("one", ct => Soak("one", ct), idempotent: true);
        await Step("two", ct => Soak("two", ct), idempotent: true);
        await Step("three", ct => Soak("three", ct), idempotent: true);
        """;
}
