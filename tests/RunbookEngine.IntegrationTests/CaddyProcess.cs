using RunbookEngine.TestSupport;
using System.Diagnostics;
using System.Net;
using System.Text;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A real Caddy (Debian's caddy package) run from a Caddyfile in a temporary folder, as the compose file's proxy. Its
/// state and config folders are the temporary folder's, so nothing is written to the machine's.
/// </summary>
internal sealed class CaddyProcess : IAsyncDisposable
{
    private const string Binary = "caddy";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _log = new();

    private CaddyProcess(Process process, string directory)
    {
        _process = process;
        _directory = directory;
    }

    /// <summary>Whether caddy is on PATH or in /usr/bin.</summary>
    public static bool IsInstalled => Find() is not null;

    /// <summary>What Caddy has logged so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Checks a Caddyfile as <c>caddy validate</c> does (parsed, adapted and provisioned, nothing started).</summary>
    /// <param name="caddyfile">The Caddyfile's text.</param>
    /// <returns>The exit code and what caddy printed.</returns>
    public static async Task<(int ExitCode, string Output)> ValidateAsync(string caddyfile)
    {
        var directory = Directory.CreateTempSubdirectory("runbook-caddy-").FullName;
        try
        {
            var start = Start(directory, caddyfile, "validate");
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
            return (process.ExitCode, await output + await error);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Starts Caddy and waits until <paramref name="probe"/> answers 200 through it.</summary>
    /// <param name="caddyfile">The Caddyfile's text.</param>
    /// <param name="probe">A URL served through the proxy.</param>
    /// <returns>The running Caddy.</returns>
    public static async Task<CaddyProcess> StartAsync(string caddyfile, Uri probe)
    {
        ProcessReaper.Watch();
        var directory = Directory.CreateTempSubdirectory("runbook-caddy-").FullName;
        var caddy = new CaddyProcess(new Process { StartInfo = Start(directory, caddyfile, "run") }, directory);
        try
        {
            caddy._process.OutputDataReceived += (_, e) => caddy.Record(e.Data);
            caddy._process.ErrorDataReceived += (_, e) => caddy.Record(e.Data);
            caddy._process.Start();
            caddy._process.BeginOutputReadLine();
            caddy._process.BeginErrorReadLine();
            await caddy.WaitUntilServingAsync(probe);
            return caddy;
        }
        catch
        {
            await caddy.DisposeAsync();
            throw;
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await ProcessCleanup.KillAndRemoveAsync(_process, _directory);
    }

    private static ProcessStartInfo Start(string directory, string caddyfile, string command)
    {
        var binary = Find() ?? throw new InvalidOperationException("caddy was not found on PATH or in /usr/bin; install it (apt-get install -y caddy; tests/run.sh does this)");
        var config = Path.Combine(directory, "Caddyfile");
        File.WriteAllText(config, caddyfile);
        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = directory };
        foreach (var argument in new[] { command, "--config", config, "--adapter", "caddyfile" })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HOME"] = directory;
        start.Environment["XDG_DATA_HOME"] = Path.Combine(directory, "data");
        start.Environment["XDG_CONFIG_HOME"] = Path.Combine(directory, "config");
        return start;
    }

    private static string? Find() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin")
            .Select(directory => Path.Combine(directory, Binary)).FirstOrDefault(File.Exists);

    private async Task WaitUntilServingAsync(Uri probe)
    {
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1))
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                throw new InvalidOperationException($"caddy exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await client.GetAsync(probe);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await tick.WaitForNextTickAsync();
        }

        throw new InvalidOperationException($"{probe} did not answer 200 through caddy within a minute:\n{Log}");
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }
}
