using System.Globalization;

namespace RunbookEngine.Sdk.Tests;

public sealed class ShellTests
{
    [Fact]
    public async Task Shell_CapturesOutputAndExitCode()
    {
        var context = Some.Context();

        var result = await context.Shell("sh -c 'echo out; echo err >&2; exit 3'");

        Assert.Equal((3, "out\n", "err\n"), (result.ExitCode, result.StdOut, result.StdErr));
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task Shell_KeepsEachInterpolatedValueOneArgument_WhateverItContains()
    {
        var context = Some.Context();
        var hostile = "a b; rm -rf / $(reboot) 'quoted'";

        var result = await context.Shell($"printf %s|\\n {hostile}");

        Assert.Equal(hostile + "|\n", result.StdOut);
    }

    [Fact]
    public async Task Shell_InsideAStep_AddsItsOutputToTheStep()
    {
        var context = Some.Context();

        await context.Step("greet", ct => context.Shell("echo hello from the step", ct));

        Assert.Contains("hello from the step", context.Steps.Single().Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_PastItsTimeout_KillsTheWholeProcessTree()
    {
        var context = Some.Context();
        var pidFile = Path.GetTempFileName();

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            context.Shell($"sh -c 'sleep 60 & echo $! > {pidFile}; wait'", timeout: TimeSpan.FromMilliseconds(500)));

        Assert.Contains("process tree was killed", error.Message, StringComparison.Ordinal);
        var grandchild = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.True(SpinWait.SpinUntil(() => !IsAlive(grandchild), TimeSpan.FromSeconds(10)), $"process {grandchild} outlived the timeout");
    }

    [Fact]
    public async Task Shell_WhenCancelled_KillsTheProcessAndThrows()
    {
        using var cancel = new CancellationTokenSource();
        var context = Some.Context();
        var pidFile = Path.GetTempFileName();

        var shell = context.Shell($"sh -c 'echo $$ > {pidFile}; exec sleep 60'", cancel.Token);
        Assert.True(SpinWait.SpinUntil(() => new FileInfo(pidFile).Length > 0, TimeSpan.FromSeconds(10)));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => shell);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.True(SpinWait.SpinUntil(() => !IsAlive(pid), TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Shell_OfAMissingProgram_SaysSo()
    {
        var error = await Assert.ThrowsAsync<RunbookFailedException>(() => Some.Context().Shell("no-such-program-here --now"));

        Assert.StartsWith("cannot start `no-such-program-here --now`", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_WithCheck_ThrowsOnANonZeroExitCode()
    {
        var error = await Assert.ThrowsAsync<RunbookFailedException>(() => Some.Context().Shell("sh -c 'echo broken >&2; exit 2'", check: true));

        Assert.Equal("`sh -c 'echo broken >&2; exit 2'` exited with 2: broken", error.Message);
    }

    [Fact]
    public async Task Shell_InADryRun_ReportsInsteadOfRunning_UnlessReadOnly()
    {
        var context = Some.Context(dryRun: true);
        var marker = Path.Combine(Path.GetTempPath(), Guid.NewGuid().ToString("N"));

        var skipped = await context.Shell($"touch {marker}");
        var read = await context.Shell("echo still runs", readOnly: true);

        Assert.True(skipped.DryRun);
        Assert.False(File.Exists(marker));
        Assert.Equal("still runs\n", read.StdOut);
    }

    [Fact]
    public async Task Shell_OutputBeyondTheCap_IsCutAndCounted()
    {
        var result = await Some.Context().Shell("head -c 3000000 /dev/zero");

        Assert.InRange(result.StdOut.Length, ShellResult.MaxCapturedLength, ShellResult.MaxCapturedLength + 100);
        Assert.Contains("more characters not captured", result.StdOut, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("systemctl restart nginx", new[] { "systemctl", "restart", "nginx" })]
    [InlineData("sh -c 'echo a  b'", new[] { "sh", "-c", "echo a  b" })]
    [InlineData("grep \"two words\" file", new[] { "grep", "two words", "file" })]
    [InlineData("echo ''", new[] { "echo", "" })]
    public void ShellCommand_SplitsPlainTextLikeAShell(string text, string[] expected)
    {
        Assert.Equal(expected, ShellCommand.Parse(text).ToArgv());
    }

    [Fact]
    public void ShellCommand_JoinsHolesToTheirWord_AndSpreadsLists()
    {
        var path = "/var/log/my app";
        string[] files = ["a.log", "b c.log"];

        ShellCommand command = $"du --max-depth=1 {path} --files {files}";

        Assert.Equal(["du", "--max-depth=1", "/var/log/my app", "--files", "a.log", "b c.log"], command.ToArgv());
        Assert.Equal("du --max-depth=1 '/var/log/my app' --files a.log 'b c.log'", command.ToString());
    }

    [Fact]
    public void ShellCommand_WithAnUnclosedQuote_IsRefused()
    {
        var error = Assert.Throws<ArgumentException>(() => ShellCommand.Parse("echo 'oops").ToArgv());

        Assert.Equal("the command has an unclosed ' quote", error.Message);
    }

    private static bool IsAlive(int pid)
    {
        var status = $"/proc/{pid}/status";
        if (!File.Exists(status))
        {
            return false;
        }

        try
        {
            // A zombie is dead; it only waits for its parent to read its exit code.
            return !File.ReadAllLines(status).Any(line => line.StartsWith("State:", StringComparison.Ordinal) && line.Contains('Z', StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return false;
        }
    }
}
