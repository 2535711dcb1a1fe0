using System.Diagnostics;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// The assembly's entry point, which test runners never call. <c>dotnet RunbookEngine.IntegrationTests.dll
/// start-a-host-and-postgresql-then-die</c> behaves like a test process killed by its runner half way through a test.
/// </summary>
public static class Program
{
    public const string StartThenDie = "start-a-host-and-postgresql-then-die";

    public static async Task<int> Main(string[] args)
    {
        if (args is not [StartThenDie])
        {
            return 0;
        }

        var server = await PostgresServer.StartOwnAsync();
        var root = Directory.CreateTempSubdirectory("runbook-dies-").FullName;
        Directory.CreateDirectory(Path.Combine(root, "runbooks"));
        var host = await HostProcess.StartAsync(root, new Dictionary<string, string> { ["RUNBOOKENGINE_CACHE"] = Path.Combine(root, "cache") });
        var postmaster = File.ReadLines(Path.Combine(server.DataDirectory!, "postmaster.pid")).First();
        Console.WriteLine($"host {host.ProcessId}");
        Console.WriteLine($"postgres {postmaster} {server.DataDirectory}");
        Console.Out.Flush();

        // SIGKILL, as a runner's timeout does: no finally, no exit handler, no DisposeAsync runs after this.
        Process.GetCurrentProcess().Kill();
        return 1;
    }
}
