using System.Diagnostics;
using Npgsql;

namespace RunbookEngine.TestSupport;

/// <summary>
/// A PostgreSQL server for tests: the one named by RUNBOOKENGINE_TEST_POSTGRES (a connection string whose user may create
/// databases), or else a throwaway cluster started from the local binaries in a temporary folder on a free loopback port,
/// stopped when the test process exits. Each test class takes its own database.
/// </summary>
public sealed class PostgresServer
{
    /// <summary>The environment variable that points the tests at an existing server.</summary>
    public const string EnvironmentVariable = "RUNBOOKENGINE_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresServer>> Instance = new(() => StartAsync(durable: false));

    private readonly string _adminConnectionString;
    private readonly (string Bin, string Data, bool AsRoot, string Options)? _local;

    private PostgresServer(string adminConnectionString, (string Bin, string Data, bool AsRoot, string Options)? local = null)
    {
        _adminConnectionString = adminConnectionString;
        _local = local;
    }

    /// <summary>
    /// A throwaway server of its own that a test may stop and start again (to see what a host does when its database goes
    /// away). Needs the local binaries: a server named by RUNBOOKENGINE_TEST_POSTGRES cannot be stopped by a test.
    /// Durable, as in production: without synchronous commit an immediate stop forgets writes it had acknowledged, and
    /// a test of what survives an outage would see losses the outage did not cause.
    /// </summary>
    public static Task<PostgresServer> StartOwnAsync() => StartAsync(durable: true, own: true);

    /// <summary>Stops an own server at once, as a crash or a network cut would look to its clients.</summary>
    /// <returns>A task.</returns>
    public Task StopAsync()
    {
        var (bin, data, asRoot, _) = _local ?? throw new InvalidOperationException("only a server from StartOwnAsync can be stopped");
        return RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-w", "-m", "immediate", "stop"], asRoot);
    }

    /// <summary>Starts a stopped own server again on the same port with the same data.</summary>
    /// <returns>A task.</returns>
    public Task RestartAsync()
    {
        var (bin, data, asRoot, options) = _local ?? throw new InvalidOperationException("only a server from StartOwnAsync can be restarted");
        return RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-w", "-t", "60", "-l", Path.Combine(data, "server.log"), "-o", options, "start"], asRoot);
    }

    /// <summary>The data folder of a server these tests started, or null for one named by RUNBOOKENGINE_TEST_POSTGRES.</summary>
    public string? DataDirectory => _local?.Data;

    /// <summary>The server shared by every test in the process.</summary>
    public static Task<PostgresServer> SharedAsync() => Instance.Value;

    /// <summary>
    /// A server of its own with fsync and synchronous commit on, as in production, for benchmarks; tests use the shared
    /// one, which skips fsync. RUNBOOKENGINE_TEST_POSTGRES is honoured here too.
    /// </summary>
    public static Task<PostgresServer> StartDurableAsync() => StartAsync(durable: true);

    /// <summary>Creates an empty database with a unique name and returns its connection string.</summary>
    /// <param name="purpose">A word for the name, such as the test class.</param>
    /// <returns>The connection string.</returns>
    public async Task<string> CreateDatabaseAsync(string purpose)
    {
        var name = $"rb_{new string(purpose.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(24).ToArray())}_{Guid.NewGuid():N}";
        await using var connection = new NpgsqlConnection(_adminConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(_adminConnectionString) { Database = name, Pooling = true }.ToString();
    }

    /// <summary>Everything a database holds, as <c>pg_dump</c> writes it: what a stolen backup would give away.</summary>
    /// <param name="connectionString">The database, as <see cref="CreateDatabaseAsync"/> gave it.</param>
    /// <returns>The dump's text.</returns>
    public static async Task<string> DumpAsync(string connectionString)
    {
        var target = new NpgsqlConnectionStringBuilder(connectionString);
        // Beside the server's binaries first, then Debian's versioned folders: /usr/bin/pg_dump is a wrapper that wants a
        // configured cluster.
        var versioned = Directory.Exists("/usr/lib/postgresql") ? Directory.GetDirectories("/usr/lib/postgresql").Order().Reverse().Select(v => Path.Combine(v, "bin")) : [];
        var pgDump = versioned.Prepend(FindBinaries()).Select(directory => Path.Combine(directory, "pg_dump")).FirstOrDefault(File.Exists) ?? "pg_dump";
        var start = new ProcessStartInfo(pgDump) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { "-h", target.Host!, "-p", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", target.Username!, target.Database! })
        {
            start.ArgumentList.Add(argument);
        }

        if (target.Password is { } password)
        {
            start.Environment["PGPASSWORD"] = password;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"pg_dump exited with {process.ExitCode}: {await error}");
    }

    private static async Task<PostgresServer> StartAsync(bool durable, bool own = false)
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!own && !string.IsNullOrWhiteSpace(configured))
        {
            return new PostgresServer(configured);
        }

        var bin = FindBinaries();
        var data = Directory.CreateTempSubdirectory("runbook-pg-").FullName;
        var asRoot = Environment.UserName == "root";
        // pg_ctl leaves the server running on its own, outside the test process's tree: the exit handler stops it when
        // the process ends normally, and the reaper when it is killed (where no handler runs).
        ProcessReaper.AtExit(
            ReaperName(data),
            $"{(asRoot ? "runuser -u postgres -- " : "")}{ProcessReaper.Quote(Path.Combine(bin, "pg_ctl"))} -D {ProcessReaper.Quote(data)} -m immediate stop; rm -rf {ProcessReaper.Quote(data)}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Stop(bin, data, asRoot);
        var port = Loopback.FreePort();
        var safety = durable ? "" : " -c fsync=off -c synchronous_commit=off -c full_page_writes=off";
        var options = $"-p {port} -c listen_addresses=127.0.0.1 -k {data} -c max_connections=300{safety}";
        try
        {
            if (asRoot)
            {
                // PostgreSQL refuses to run as root; the Debian package's postgres account runs it instead.
                await RunAsync("chown", ["-R", "postgres:postgres", data]);
            }

            await RunAsync(Path.Combine(bin, "initdb"), ["-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], asRoot);
            await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-w", "-t", "60", "-l", Path.Combine(data, "server.log"), "-o", options, "start"], asRoot);
        }
        catch
        {
            // A start that timed out may still come up later; the shared server's Lazy keeps the failure, so nothing else would stop it.
            Stop(bin, data, asRoot);
            throw;
        }

        return new PostgresServer($"Host=127.0.0.1;Port={port};Username=postgres;Database=postgres;Pooling=false;Timeout=30", (bin, data, asRoot, options));
    }

    private static void Stop(string bin, string data, bool asRoot)
    {
        if (!Directory.Exists(data))
        {
            return;
        }

        try
        {
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "stop"], asRoot).GetAwaiter().GetResult();
            }

            Directory.Delete(data, recursive: true);
            ProcessReaper.Forget(ReaperName(data));
        }
        catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            // The process is exiting; a leftover temp folder is harmless, and the reaper tries again once it has gone.
        }
    }

    private static string ReaperName(string data) => "postgres-" + Path.GetFileName(data);

    private static string FindBinaries()
    {
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(directory => File.Exists(Path.Combine(directory, "initdb")));
        if (onPath is not null)
        {
            return onPath;
        }

        var debian = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(v => Path.Combine(v, "bin")).Where(b => File.Exists(Path.Combine(b, "initdb"))).Order().LastOrDefault()
            : null;
        return debian ?? throw new InvalidOperationException(
            $"PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or under /usr/lib/postgresql; install postgresql (apt-get install -y postgresql) or set {EnvironmentVariable}");
    }

    private static async Task RunAsync(string program, string[] arguments, bool asPostgres = false)
    {
        var start = new ProcessStartInfo(asPostgres ? "runuser" : program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres)
        {
            foreach (var prefix in new[] { "-u", "postgres", "--", program })
            {
                start.ArgumentList.Add(prefix);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}{await output}");
        }
    }
}
