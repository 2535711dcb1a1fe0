using System.Text.Json;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.Trust;

public sealed class ChildCasesTests
{
    [Fact]
    public void Capped_CutsEachMessageAndCountsTheFailuresPastTheCase_WhenACaseReportsTooMuch()
    {
        var failures = Enumerable.Range(1, 1000).Select(i => new CaseFailure(new string('\u0001', 20_000), i)).ToList();

        var capped = ChildCases.Capped(new CaseOutcome("tests/greet/noisy.yaml", "greet", "noisy", failures));

        Assert.All(capped.Failures, f => Assert.True(f.Message.Length <= 4 * 1024 + " (cut short)".Length, $"{f.Message.Length} characters"));
        Assert.Matches("^[0-9]+ more failures not shown$", capped.Failures[^1].Message);
        Assert.False(capped.Passed);

        // Escaped to \uXXXX, the line the parent reads still fits under its 1 MiB cap.
        Assert.True(JsonSerializer.Serialize(capped, CaseProcess.Json).Length < 1024 * 1024);
    }

    [Fact]
    public void Capped_KeepsAnOutcome_WhenItIsSmall()
    {
        var outcome = new CaseOutcome("tests/greet/ok.yaml", "greet", "ok", [new CaseFailure("status: expected Succeeded", 3)]);

        Assert.Equal(outcome.Failures, ChildCases.Capped(outcome).Failures);
    }

    [Theory]
    [InlineData(new[] { "--run-cases=/tmp/x" }, true)]
    [InlineData(new[] { "--urls=http://127.0.0.1:0", "--run-cases=/tmp/x" }, true)]
    [InlineData(new[] { "--run-cases=" }, false)]
    [InlineData(new[] { "--execute-run=abc" }, false)]
    public void IsRequested_ReadsTheCommandLineOnly(string[] args, bool requested) =>
        Assert.Equal(requested, ChildCases.IsRequested(args));
}
