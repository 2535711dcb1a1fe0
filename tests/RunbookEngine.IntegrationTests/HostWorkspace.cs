using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>A scratch folder holding the test runbooks, a host running in it, and a client for its API.</summary>
internal sealed class HostWorkspace : IAsyncDisposable
{
    private readonly Dictionary<string, string> _environment;

    private HostWorkspace(string root, HostProcess host, Dictionary<string, string> environment)
    {
        Root = root;
        Host = host;
        Http = new HttpClient { BaseAddress = host.Address, Timeout = TimeSpan.FromMinutes(3) };
        _environment = environment;
    }

    public string Root { get; }

    public HostProcess Host { get; private set; }

    public HttpClient Http { get; private set; }

    /// <summary>A setting the host was started with (its environment variable), or null.</summary>
    public string? Setting(string name) => _environment.GetValueOrDefault(name);

    /// <summary>
    /// Stops the host as a service manager would and starts it again on the same folder and store, with
    /// <paramref name="changes"/> made to its settings (a null value removes one), as an operator editing them would.
    /// </summary>
    public async Task RestartAsync(IReadOnlyDictionary<string, string?>? changes = null)
    {
        foreach (var (name, value) in changes ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                _environment.Remove(name);
            }
            else
            {
                _environment[name] = value;
            }
        }

        Assert.Equal(0, await Host.StopAsync(TimeSpan.FromMinutes(1)));
        await Host.DisposeAsync();
        Host = await HostProcess.StartAsync(Root, _environment);
        Http.Dispose();
        Http = new HttpClient { BaseAddress = Host.Address, Timeout = TimeSpan.FromMinutes(3) };
    }

    /// <summary>Kills the host as a crash would (SIGKILL) and starts it again on the same folder, store and settings.</summary>
    public async Task KillAndRestartAsync()
    {
        Host.Kill();
        await Host.DisposeAsync();
        Host = await HostProcess.StartAsync(Root, _environment);
        Http.Dispose();
        Http = new HttpClient { BaseAddress = Host.Address, Timeout = TimeSpan.FromMinutes(3) };
    }

    /// <summary>A file of the repository's own runbooks/ folder (the examples).</summary>
    public static string Example(string relativePath)
    {
        return File.ReadAllText(Repository.Path("runbooks", relativePath));
    }

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
            var path = Path.Combine(runbooks, name + ".csx");
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }

        var environment = new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["RUNBOOKENGINE_CACHE"] = Path.Combine(root, "cache"),
        };

        // Tests read lists right after the run that changes them; the cache is what a test of it turns back on.
        environment.TryAdd("RunbookEngine__Trust__ListCacheFor", "00:00:00");
        return new HostWorkspace(root, await HostProcess.StartAsync(root, environment), environment);
    }

    /// <summary>Hosts in cluster mode on one fresh PostgreSQL database, named node-0, node-1, ...</summary>
    public static async Task<List<HostWorkspace>> StartClusterAsync(
        string purpose, int nodes, IReadOnlyDictionary<string, string>? extraRunbooks = null, IReadOnlyDictionary<string, string>? settings = null)
    {
        var server = await PostgresServer.SharedAsync();
        var database = await server.CreateDatabaseAsync(purpose);
        var started = new List<HostWorkspace>();
        try
        {
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
        }
        catch
        {
            // The caller never gets the nodes that did start, so it could not stop them.
            await DisposeAllAsync(started);
            throw;
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
