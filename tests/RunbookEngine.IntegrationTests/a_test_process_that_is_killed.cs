using System.Diagnostics;
using System.Globalization;
using RunbookEngine.TestSupport;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// A test process killed by its runner (SIGKILL: no exit handler, no DisposeAsync) while a host and a PostgreSQL server
/// it started are running, which is what left them behind before.
/// </summary>
public sealed class a_test_process_that_is_killed
{
    [Fact]
    public async Task leaves_neither_its_host_nor_its_postgresql_running()
    {
        // Tagged itself, so a failure of this test does not leave the child behind either.
        ProcessReaper.Watch();
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "RunbookEngine.IntegrationTests.dll"));
        start.ArgumentList.Add(Program.StartThenDie);
        using var child = Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync();
        var error = child.StandardError.ReadToEndAsync();
        await child.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(5));
        var said = (await output.WaitAsync(TimeSpan.FromMinutes(1))).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')).ToList();
        var diagnosis = $"exit {child.ExitCode}\n{string.Join('\n', said.Select(words => string.Join(' ', words)))}\n{await error.WaitAsync(TimeSpan.FromMinutes(1))}";

        Assert.True(child.ExitCode == 128 + 9, diagnosis);
        var host = int.Parse(said.Single(words => words[0] == "host")[1], CultureInfo.InvariantCulture);
        var postgres = said.Single(words => words[0] == "postgres");
        var (postmaster, data) = (int.Parse(postgres[1], CultureInfo.InvariantCulture), postgres[2]);
        await UntilAsync(() => !Running(host), $"the host ({host}) is still running");
        await UntilAsync(() => !Running(postmaster), $"PostgreSQL ({postmaster}) is still running");
        await UntilAsync(() => !Directory.Exists(data), $"PostgreSQL's data folder {data} is still there");
    }

    // A zombie counts as gone: it runs nothing and holds no port; reaping it is its new parent's business.
    private static bool Running(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or IOException)
        {
            return false;
        }
    }

    private static async Task UntilAsync(Func<bool> done, string failure)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (!done())
        {
            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(1), failure);
            await tick.WaitForNextTickAsync();
        }
    }
}
