using System.Diagnostics;
using System.Globalization;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Benchmarks.Soak;

/// <summary>One host process of a node: a node killed and started again has a new one.</summary>
/// <param name="Node">The node id.</param>
/// <param name="Life">1 for the first process of the node, 2 after its first restart, and so on.</param>
/// <param name="Process">The process's identity (pid@starttime), as the runbook writes it.</param>
/// <param name="Host">The host.</param>
internal sealed record Incarnation(string Node, int Life, string Process, HostProcess Host);

/// <summary>
/// The soak's host processes on one PostgreSQL: two executing nodes to disrupt and a front node that only records and
/// dispatches, taking every trigger, so triggering never waits on a disrupted node.
/// </summary>
internal sealed class Nodes(string work, string database, int maxConcurrentRuns) : IAsyncDisposable
{
    public const string Front = "soak-front";

    public static readonly string[] Executing = ["soak-a", "soak-b"];

    private readonly Dictionary<string, Incarnation> _current = [];
    private readonly List<Incarnation> _all = [];
    private readonly HashSet<int> _stopped = [];

    /// <summary>Every host process started, in order, killed ones included (their logs are kept).</summary>
    public IReadOnlyList<Incarnation> All
    {
        get
        {
            lock (_all)
            {
                return [.. _all];
            }
        }
    }

    /// <summary>The identities of the processes killed with -9.</summary>
    public HashSet<string> Killed { get; } = [];

    public Incarnation this[string node]
    {
        get
        {
            lock (_all)
            {
                return _current[node];
            }
        }
    }

    public async Task StartAllAsync()
    {
        await StartAsync(Front, executes: false);
        foreach (var node in Executing)
        {
            await StartAsync(node, executes: true);
        }
    }

    /// <summary>kill -9, then the same node again at once, with the same id and settings.</summary>
    /// <returns>How long the new process took to serve.</returns>
    public async Task<TimeSpan> KillAndRestartAsync(string node)
    {
        var victim = this[node];
        lock (_all)
        {
            Killed.Add(victim.Process);
        }

        victim.Host.Kill();
        var restarting = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAsync(node, executes: true);
                return restarting.Elapsed;
            }
            catch (Exception ex) when (attempt < 3 && ex is InvalidOperationException or TimeoutException)
            {
                // The machine is shared and busy: a slow start is tried again rather than ending the soak with one node.
                Console.Error.WriteLine($"{node} did not start again ({ex.Message.Split('\n')[0]}); trying again");
            }
        }
    }

    /// <summary>SIGSTOP, a pause, then SIGCONT: the node is stalled, not dead, and keeps its PostgreSQL sessions.</summary>
    public async Task StallAsync(string node, TimeSpan stall)
    {
        var pid = this[node].Host.ProcessId;
        await HostProcess.SignalAsync(pid, "STOP");
        lock (_stopped)
        {
            _stopped.Add(pid);
        }

        try
        {
            await Task.Delay(stall);
        }
        finally
        {
            await ResumeAsync(pid);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // A stopped process would take SIGKILL too, but SIGCONT first leaves nothing half-handled if the kill fails.
        int[] stopped;
        lock (_stopped)
        {
            stopped = [.. _stopped];
        }

        foreach (var pid in stopped)
        {
            await ResumeAsync(pid);
        }

        foreach (var incarnation in All)
        {
            await incarnation.Host.DisposeAsync();
        }
    }

    private async Task ResumeAsync(int pid)
    {
        await HostProcess.SignalAsync(pid, "CONT");
        lock (_stopped)
        {
            _stopped.Remove(pid);
        }
    }

    private async Task StartAsync(string node, bool executes)
    {
        var host = await HostProcess.StartAsync(work, new Dictionary<string, string>
        {
            ["RunbookEngine__Storage"] = "postgres",
            ["RunbookEngine__ConnectionString"] = database,
            ["RunbookEngine__NodeId"] = node,
            ["RunbookEngine__ExecutesRuns"] = executes ? "true" : "false",
            ["RunbookEngine__MaxConcurrentRuns"] = maxConcurrentRuns.ToString(CultureInfo.InvariantCulture),
            ["RUNBOOKENGINE_CACHE"] = Path.Combine(work, "cache"),
            ["Serilog__MinimumLevel__Override__RunbookEngine"] = "Warning",
        });
        lock (_all)
        {
            var life = _all.Count(i => i.Node == node) + 1;
            var incarnation = new Incarnation(node, life, ProcessIdentity.Of(host.ProcessId) ?? $"{host.ProcessId}@?", host);
            _all.Add(incarnation);
            _current[node] = incarnation;
        }
    }
}
