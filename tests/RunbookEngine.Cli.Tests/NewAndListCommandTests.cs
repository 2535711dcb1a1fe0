namespace RunbookEngine.Cli.Tests;

public sealed class NewAndListCommandTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task New_ScaffoldsARunbookThatValidatesAndRuns()
    {
        var created = await _workspace.RunAsync("new", "restart-api");
        var validated = await _workspace.RunAsync("validate");
        var ran = await _workspace.RunAsync("run", "restart-api", "--dry-run");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.True(validated.ExitCode == 0, validated.ToString());
        Assert.Contains("✓ restart-api", validated.StdOut, StringComparison.Ordinal);
        Assert.True(ran.ExitCode == 0, ran.ToString());
    }

    [Fact]
    public async Task New_RefusesBadNamesAndExistingFiles()
    {
        var badName = await _workspace.RunAsync("new", "../escape");
        var existing = await _workspace.RunAsync("new", "disk-cleanup");

        Assert.Equal(2, badName.ExitCode);
        Assert.Equal(1, existing.ExitCode);
        Assert.Contains("already exists", existing.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_ShowsEachRunbookWithItsTriggers()
    {
        var result = await _workspace.RunAsync("list");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("NodeFilesystemAlmostFull", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("0 8 * * * (next", result.StdOut, StringComparison.Ordinal);
    }

    public void Dispose() => _workspace.Dispose();
}
