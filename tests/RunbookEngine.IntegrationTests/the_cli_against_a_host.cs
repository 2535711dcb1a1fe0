using System.Diagnostics;

namespace RunbookEngine.IntegrationTests;

/// <summary>`runbook trigger` and `runbook runs` against a running host.</summary>
public sealed class the_cli_against_a_host : IAsyncLifetime
{
    private HostWorkspace _workspace = null!;

    public async Task InitializeAsync() => _workspace = await HostWorkspace.StartAsync();

    public async Task DisposeAsync() => await _workspace.DisposeAsync();

    [Fact]
    public async Task trigger_with_wait_follows_the_steps_and_exits_zero_on_success()
    {
        var (exit, output) = await RunCliAsync("trigger", "hello", "--server", _workspace.Host.Address.ToString(), "-p", "who=cli", "--wait");

        Assert.True(exit == 0, output);
        Assert.Contains("✓ 1. compose", output, StringComparison.Ordinal);
        Assert.Contains("✓ 2. say it", output, StringComparison.Ordinal);
        Assert.Contains("Succeeded", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task trigger_with_bad_parameters_exits_two_and_names_them()
    {
        var (exit, output) = await RunCliAsync("trigger", "hello", "--server", _workspace.Host.Address.ToString(), "-p", "times=lots");

        Assert.Equal(2, exit);
        Assert.Contains("parameter 'who': required", output, StringComparison.Ordinal);
        Assert.Contains("parameter 'times': 'lots' is not an int", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task runs_lists_what_ran()
    {
        var runId = await _workspace.Http.TriggerAsync("hello", new { who = "listed" });
        await _workspace.Http.EndedRunAsync(runId);

        var (exit, output) = await RunCliAsync("runs", "--server", _workspace.Host.Address.ToString());

        Assert.True(exit == 0, output);
        Assert.Contains(runId, output, StringComparison.Ordinal);
        Assert.Contains("Succeeded", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task trigger_with_wait_says_how_to_answer_an_approval_and_complete_answers_it()
    {
        var server = _workspace.Host.Address.ToString();
        var following = RunCliAsync("trigger", "approval", "--server", server, "--wait");
        var runId = await WaitingRunAsync("approval");

        var (completeExit, completeOutput) = await RunCliAsync("complete", runId, "1", "--by", "on-call", "--comment", "fine", "--server", server);
        var (followExit, followOutput) = await following;
        var (toilExit, toilOutput) = await RunCliAsync("toil", "--since", "1h", "--server", server);

        Assert.True(completeExit == 0, completeOutput);
        Assert.Contains("step 1 'Approve: Proceed?' completed by on-call", completeOutput, StringComparison.Ordinal);
        Assert.True(followExit == 0, followOutput);
        Assert.Contains($"runbook complete {runId} 1 --server", followOutput, StringComparison.Ordinal);
        Assert.Contains("Succeeded", followOutput, StringComparison.Ordinal);
        Assert.True(toilExit == 0, toilOutput);
        Assert.Contains("approval", toilOutput, StringComparison.Ordinal);
    }

    /// <summary>The newest run of a runbook, once it rests waiting for a person.</summary>
    private async Task<string> WaitingRunAsync(string runbook) =>
        (await _workspace.Http.UntilAsync(
            $"/api/runs?runbook={runbook}&status=WaitingForHuman",
            page => page.GetProperty("runs").EnumerateArray().FirstOrDefault() is { ValueKind: System.Text.Json.JsonValueKind.Object } run ? run : null,
            $"no run of {runbook} came to wait for a person")).GetProperty("id").GetString()!;

    internal static async Task<(int Exit, string Output)> RunCliAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "runbook.dll"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        return (process.ExitCode, await stdout + await stderr);
    }
}
