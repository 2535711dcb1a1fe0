using System.Text.Json;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.Tests.Trust;

public sealed class CaseLinesTests
{
    private const string Mark = "0123456789abcdef";

    private static string Passed(string file) =>
        JsonSerializer.Serialize(new CaseOutcome(file, "greet", Path.GetFileNameWithoutExtension(file), []), CaseProcess.Json);

    [Fact]
    public void Finished_PassesEveryCase_WhenEachAnnouncedCaseIsReported()
    {
        var lines = new CaseLines(Mark);

        Assert.False(lines.Read($"{Mark} count 2"));
        Assert.False(lines.Read("hello from a runbook"));
        lines.Read($"{Mark} case-start tests/greet/a.yaml");
        lines.Read($"{Mark} case {Passed("tests/greet/a.yaml")}");
        lines.Read($"{Mark} case-start tests/greet/b.yaml");
        lines.Read($"{Mark} case {Passed("tests/greet/b.yaml")}");

        Assert.True(lines.Read($"{Mark} done "));
        Assert.True(lines.Finished().Passed);
        Assert.Equal(2, lines.Finished().Cases.Count);
    }

    [Fact]
    public void Read_FailsTheRunningCase_WhenItsReportCannotBeRead()
    {
        var lines = new CaseLines(Mark);

        lines.Read($"{Mark} count 1");
        lines.Read($"{Mark} case-start tests/greet/huge.yaml");
        lines.Read($"{Mark} case {{\"file\":\"tests/greet/huge.yaml\",\"failures\":[{{\"message\":\"cut at the li");
        lines.Read($"{Mark} done");

        var report = lines.Finished();
        var failed = Assert.Single(report.Failed);
        Assert.Equal(("tests/greet/huge.yaml", "greet", "huge"), (failed.File, failed.Runbook, failed.Name));
        Assert.Contains("could not be read", failed.Failures.Single().Message, StringComparison.Ordinal);
        Assert.False(report.Passed);
    }

    [Fact]
    public void Finished_Fails_WhenFewerCasesAreReportedThanAnnounced()
    {
        var lines = new CaseLines(Mark);

        lines.Read($"{Mark} count 2");
        lines.Read($"{Mark} case {Passed("tests/greet/a.yaml")}");
        lines.Read($"{Mark} done");

        var report = lines.Finished();
        Assert.False(report.Passed);
        Assert.Equal("the test cases' process said it was done after reporting 1 of 2 cases", report.Error);
    }

    [Fact]
    public void Finished_Fails_WhenNoCountWasAnnounced()
    {
        var lines = new CaseLines(Mark);

        lines.Read($"{Mark} done");

        Assert.Equal("the test cases' process said it was done after reporting 0 of an unannounced number of cases", lines.Finished().Error);
    }

    [Fact]
    public void Read_IgnoresLinesWithoutTheMarkAndCaseStartsOutsideTheCasesFolder()
    {
        var lines = new CaseLines(Mark);

        lines.Read($"{Mark}x case-start tests/greet/a.yaml");
        lines.Read($"fedcba9876543210 done");
        Assert.Null(lines.Running);
        lines.Read($"{Mark} case-start ../../etc/passwd");

        Assert.Null(lines.Running);
        Assert.False(lines.Done);
    }
}
