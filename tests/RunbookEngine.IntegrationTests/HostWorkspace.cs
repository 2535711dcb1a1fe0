using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>A scratch folder holding the test runbooks, a host running in it, and a client for its API.</summary>
internal sealed class HostWorkspace : IAsyncDisposable
{
    private HostWorkspace(string root, HostProcess host)
    {
        Root = root;
        Host = host;
        Http = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromMinutes(3) };
    }

    public string Root { get; }

    public HostProcess Host { get; }

    public HttpClient Http { get; }

    public static async Task<HostWorkspace> StartAsync(IReadOnlyDictionary<string, string>? settings = null, IReadOnlyDictionary<string, string>? extraRunbooks = null)
    {
        var root = Directory.CreateTempSubdirectory("runbook-host-").FullName;
        var runbooks = Path.Combine(root, "runbooks");
        Directory.CreateDirectory(runbooks);
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Runbooks")))
        {
            File.Copy(file, Path.Combine(runbooks, Path.GetFileName(file)));
        }

        foreach (var (name, text) in extraRunbooks ?? new Dictionary<string, string>())
        {
            File.WriteAllText(Path.Combine(runbooks, name + ".csx"), text);
        }

        var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["RUNBOOKENGINE_CACHE"] = Path.Combine(root, "cache"),
        };
        return new HostWorkspace(root, await HostProcess.StartAsync(root, environment));
    }

    /// <summary>Hosts in cluster mode on one fresh PostgreSQL database, named node-0, node-1, ...</summary>
    public static async Task<List<HostWorkspace>> StartClusterAsync(
        string purpose, int nodes, IReadOnlyDictionary<string, string>? extraRunbooks = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var server = await PostgresServer.SharedAsync();
        var database = await server.CreateDatabaseAsync(purpose);
        var started = new List<HostWorkspace>();
        for (var i = 0; i < nodes; i++)
        {
            var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
            {
                ["RunbookEngine__Storage"] = "postgres",
                ["RunbookEngine__ConnectionString"] = database,
                ["RunbookEngine__NodeId"] = $"node-{i}",
            };
            started.Add(await StartAsync(environment, extraRunbooks));
        }

        return started;
    }

    /// <summary>Stops every node of a cluster.</summary>
    public static async Task DisposeAllAsync(IEnumerable<HostWorkspace> nodes)
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Host.DisposeAsync();
    }
}
