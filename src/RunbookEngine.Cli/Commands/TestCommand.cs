using System.CommandLine;
using System.Globalization;
using System.Xml.Linq;
using RunbookEngine.Cli.Terminal;
using RunbookEngine.Scripting;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;
using RunbookEngine.Trust.Testing;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary>
/// <c>runbook test [DIR]</c>: runs every test case under <c>DIR/tests/</c> with commands, HTTP calls and people
/// stubbed; exit 1 when any case fails.
/// </summary>
internal static class TestCommand
{
    private static readonly IAnsiConsole Out = Consoles.StandardOutput;

    public static Command Create()
    {
        var folder = new Argument<string>("DIR")
        {
            Description = "The runbook folder; its cases are in DIR/tests/RUNBOOK/CASE.yaml.",
            DefaultValueFactory = _ => CommonOptions.DefaultFolder,
        };
        var runbook = new Option<string?>("--runbook", "-r") { Description = "Only this runbook's cases." };
        var format = new Option<string>("--format")
        {
            Description = "text for people, github for GitHub Actions annotations on the case files, junit for a JUnit XML report on standard output.",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "github", "junit");
        var noCache = CommonOptions.NoCache();
        var command = new Command("test", "Run the runbooks' test cases: recorded or written alerts, stubbed commands and HTTP calls, expected steps and outcome.")
        {
            folder, runbook, format, noCache,
        };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(folder)!, parse.GetValue(runbook), parse.GetValue(format)!, parse.GetValue(noCache), token));
        return command;
    }

    private static async Task<int> RunAsync(string path, string? runbook, string format, bool noCache, CancellationToken cancellationToken)
    {
        var folder = new RunbookFolder(path);
        if (!folder.Exists)
        {
            await Console.Error.WriteLineAsync($"runbook: no folder '{path}'");
            return ExitCodes.Usage;
        }

        if (runbook is not null && folder.PathOf(runbook) is null)
        {
            await Console.Error.WriteLineAsync($"runbook: no runbook '{runbook}' in {path} (there: {string.Join(", ", folder.Names())})");
            return ExitCodes.Usage;
        }

        var files = TestCaseRunner.FindCases(folder.Root, runbook);
        using var compiler = CommonOptions.Compiler(noCache);
        var runner = new TestCaseRunner(compiler, TimeProvider.System);
        var results = new List<CaseResult>();
        foreach (var file in files)
        {
            var result = await runner.RunAsync(folder.Root, file, cancellationToken);
            results.Add(result);
            if (format == "text")
            {
                PrintText(result);
            }
        }

        var failed = results.Count(result => !result.Passed);
        var where = RunbookDiagnostic.DisplayPath(Path.Combine(folder.Root, TestCaseRunner.TestsFolder));
        var summary = results.Count == 0
            ? $"no test cases in {where}{(runbook is null ? "" : $"/{runbook}")}; write one as {where}/RUNBOOK/CASE.yaml or record one with runbook record"
            : $"{results.Count} case{(results.Count == 1 ? "" : "s")}: {results.Count - failed} passed, {failed} failed";
        switch (format)
        {
            case "github":
                foreach (var result in results)
                {
                    PrintGitHub(result);
                }

                Console.WriteLine(summary);
                break;
            case "junit":
                Console.WriteLine(JUnit(results));
                await Console.Error.WriteLineAsync(summary);
                break;
            default:
                Out.MarkupLine(Markup.Escape(summary));
                break;
        }

        return failed == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    private static void PrintText(CaseResult result)
    {
        var took = Durations.Format(result.Duration);
        Out.MarkupLine(result.Passed
            ? $"[green]✓[/] {Markup.Escape(result.Runbook)}/{Markup.Escape(result.Name)} [grey]({took})[/]"
            : $"[red]✗[/] {Markup.Escape(result.Runbook)}/{Markup.Escape(result.Name)} [grey]({took})[/]");
        foreach (var failure in result.Failures)
        {
            var line = $"  {RunbookDiagnostic.DisplayPath(result.File)}:{failure.Line}: {failure.Message}";

            // Written as is in a pipe: a console wraps long lines, and CI logs and editors link file:line only unwrapped.
            if (Console.IsOutputRedirected)
            {
                Console.WriteLine(line);
            }
            else
            {
                Out.MarkupLine($"[red]{Markup.Escape(line)}[/]");
            }
        }
    }

    private static void PrintGitHub(CaseResult result)
    {
        // https://docs.github.com/actions/reference/workflow-commands-for-github-actions#setting-an-error-message
        foreach (var failure in result.Failures)
        {
            Console.WriteLine($"::error file={Escape(RunbookDiagnostic.DisplayPath(result.File), true)},line={failure.Line},title={Escape($"runbook test {result.Runbook}/{result.Name}", true)}::{Escape(failure.Message, false)}");
        }
    }

    /// <summary>The JUnit XML most CI systems read: one suite per runbook, one test case per case file.</summary>
    private static string JUnit(List<CaseResult> results)
    {
        static string Seconds(TimeSpan duration) => duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture);
        var suites = results.GroupBy(result => result.Runbook, StringComparer.Ordinal).Select(suite => new XElement(
            "testsuite",
            new XAttribute("name", suite.Key),
            new XAttribute("tests", suite.Count()),
            new XAttribute("failures", suite.Count(result => !result.Passed)),
            new XAttribute("errors", 0),
            new XAttribute("time", Seconds(new TimeSpan(suite.Sum(result => result.Duration.Ticks)))),
            suite.Select(result => new XElement(
                "testcase",
                new XAttribute("classname", result.Runbook),
                new XAttribute("name", result.Name),
                new XAttribute("file", RunbookDiagnostic.DisplayPath(result.File)),
                new XAttribute("time", Seconds(result.Duration)),
                result.Passed ? null : new XElement(
                    "failure",
                    new XAttribute("message", XmlText(result.Failures[0].Message)),
                    XmlText(string.Join('\n', result.Failures.Select(failure => $"{RunbookDiagnostic.DisplayPath(result.File)}:{failure.Line}: {failure.Message}"))))))));
        var document = new XDocument(
            new XDeclaration("1.0", "utf-8", null),
            new XElement(
                "testsuites",
                new XAttribute("name", "runbook test"),
                new XAttribute("tests", results.Count),
                new XAttribute("failures", results.Count(result => !result.Passed)),
                new XAttribute("time", Seconds(new TimeSpan(results.Sum(result => result.Duration.Ticks)))),
                suites));
        return document.Declaration + Environment.NewLine + document;
    }

    /// <summary>The text without the characters XML 1.0 cannot hold (an ANSI colour escape in a command's output), which XElement refuses.</summary>
    private static string XmlText(string text) =>
        text.Any(c => !System.Xml.XmlConvert.IsXmlChar(c)) ? string.Concat(text.Where((c, i) => System.Xml.XmlConvert.IsXmlChar(c) || IsSurrogatePair(text, i))) : text;

    private static bool IsSurrogatePair(string text, int i) =>
        (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1])) ||
        (char.IsLowSurrogate(text[i]) && i > 0 && char.IsHighSurrogate(text[i - 1]));

    private static string Escape(string value, bool property)
    {
        var escaped = value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);
        return property ? escaped.Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal) : escaped;
    }
}
