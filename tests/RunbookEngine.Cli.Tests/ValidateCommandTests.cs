namespace RunbookEngine.Cli.Tests;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly Workspace _workspace = new();

    [Fact]
    public async Task Validate_OfTheExampleRunbooks_ExitsZero()
    {
        var result = await _workspace.RunAsync("validate", "runbooks");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("✓ disk-cleanup", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("4 runbooks valid", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_OfABrokenFolder_ExitsOne_WithFileAndLineForEachError()
    {
        WriteBrokenFolder();

        var result = await _workspace.RunAsync("validate", "broken");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("broken/bad-front-matter.csx:3: `timeout`: '10 minutes' is not a duration; use 10m, 1h30m or 00:10:00", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("broken/does-not-compile.csx:4:17: The name 'undefinedThing' does not exist in the current context", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ fine", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("2 of 3 runbooks invalid", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_WithGithubFormat_PrintsWorkflowAnnotations()
    {
        WriteBrokenFolder();

        var result = await _workspace.RunAsync("validate", "broken", "--format", "github");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("::error file=broken/does-not-compile.csx,line=4,col=17,title=runbook CS0103::The name 'undefinedThing' does not exist in the current context", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("::error file=broken/bad-front-matter.csx,line=3,title=runbook RB110::`timeout`: '10 minutes' is not a duration; use 10m, 1h30m or 00:10:00", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_WithRequireReview_FailsARunbookWhoseReviewDateHasPassed_NamingTheDateAndTheFile()
    {
        WriteReviewFolder();

        var result = await _workspace.RunAsync("validate", "reviewed", "--require-review");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("reviewed/overdue.csx:3: review_by 2020-01-31 has passed", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("✓ current", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("1 of 2 runbooks invalid", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_WithoutRequireReview_PassesARunbookWhoseReviewDateHasPassed()
    {
        WriteReviewFolder();

        var result = await _workspace.RunAsync("validate", "reviewed");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("2 runbooks valid", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_WithRequireReviewAndGithubFormat_AnnotatesTheReviewDateLine()
    {
        WriteReviewFolder();

        var result = await _workspace.RunAsync("validate", "reviewed", "--require-review", "--format", "github");

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("::error file=reviewed/overdue.csx,line=3,title=runbook RB120::review_by 2020-01-31 has passed", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("validate", "no-such-folder")]
    [InlineData("validate", "--format", "xml")]
    [InlineData("validate", "--no-such-option")]
    [InlineData("frobnicate")]
    public async Task Validate_UsedWrongly_ExitsTwo(params string[] arguments)
    {
        var result = await _workspace.RunAsync(arguments);

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.NotEmpty(result.StdErr);
    }

    public void Dispose() => _workspace.Dispose();

    private void WriteReviewFolder()
    {
        _workspace.Write("reviewed/overdue.csx", "// ---\n// description: overdue\n// review_by: 2020-01-31\n// ---\nawait Step(\"ok\", ct => Task.CompletedTask);\n");
        _workspace.Write("reviewed/current.csx", "// ---\n// description: current\n// review_by: 2999-12-31\n// ---\nawait Step(\"ok\", ct => Task.CompletedTask);\n");
    }

    private void WriteBrokenFolder()
    {
        _workspace.Write("broken/fine.csx", "// ---\n// description: fine\n// ---\nawait Step(\"ok\", ct => Task.CompletedTask);\n");
        _workspace.Write("broken/bad-front-matter.csx", "// ---\n// description: bad timeout\n// timeout: 10 minutes\n// ---\nawait Step(\"ok\", ct => Task.CompletedTask);\n");
        _workspace.Write("broken/does-not-compile.csx", "// ---\n// description: broken code\n// ---\nvar x = 1 + 2 + undefinedThing;\n");
    }
}
