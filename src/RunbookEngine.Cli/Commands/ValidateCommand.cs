using System.CommandLine;
using RunbookEngine.Scripting;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook validate [DIR]</c>: front matter and compilation of every runbook; exit 1 when any is invalid.</summary>
internal static class ValidateCommand
{
    private static readonly IAnsiConsole Out = Consoles.StandardOutput;

    public static Command Create()
    {
        var folder = new Argument<string>("DIR")
        {
            Description = "The runbook folder.",
            DefaultValueFactory = _ => CommonOptions.DefaultFolder,
        };
        var format = new Option<string>("--format")
        {
            Description = "text for people, github for GitHub Actions annotations on the pull request.",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "github");
        var noCache = CommonOptions.NoCache();
        var requireReview = new Option<bool>("--require-review")
        {
            Description = "Also fail a runbook whose review_by: date has passed (UTC).",
        };
        var command = new Command("validate", "Check the front matter of every runbook in a folder and compile it.") { folder, format, noCache, requireReview };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(folder)!, parse.GetValue(format) == "github", parse.GetValue(noCache), parse.GetValue(requireReview), token));
        return command;
    }

    private static async Task<int> RunAsync(string path, bool github, bool noCache, bool requireReview, CancellationToken cancellationToken)
    {
        var today = DateOnly.FromDateTime(TimeProvider.System.GetUtcNow().UtcDateTime);
        var folder = new RunbookFolder(path);
        if (!folder.Exists)
        {
            await Console.Error.WriteLineAsync($"runbook: no folder '{path}'");
            return ExitCodes.Usage;
        }

        var invalidNames = Directory.EnumerateFiles(folder.Root, "*.csx", SearchOption.TopDirectoryOnly)
            .Where(file => !RunbookFolder.IsValidName(Path.GetFileNameWithoutExtension(file)))
            .Select(file => RunbookDiagnostic.Error(file, 1, "RB001", "the file name is not a valid runbook name: use letters, digits, '-', '_' and '.'"))
            .ToList();
        var names = folder.Names();
        if (names.Count == 0 && invalidNames.Count == 0)
        {
            Report(github, $"no runbooks (*.csx) in {RunbookDiagnostic.DisplayPath(folder.Root)}");
            return ExitCodes.Ok;
        }

        using var compiler = CommonOptions.Compiler(noCache);
        var invalid = invalidNames.Count;
        foreach (var diagnostic in invalidNames)
        {
            Print(diagnostic, github);
        }

        foreach (var name in names)
        {
            var document = folder.Read(name)!;
            IReadOnlyList<RunbookDiagnostic> diagnostics = document.Diagnostics;
            if (document.IsValid)
            {
                var result = await compiler.CompileAsync(document.Source, cancellationToken);
                result.Runbook?.Dispose();
                diagnostics = result.Diagnostics;
            }

            if (requireReview && document.Definition?.ReviewBy is { } reviewBy && reviewBy < today)
            {
                diagnostics = [.. diagnostics, ReviewPassed(document, reviewBy, today)];
            }

            var ok = !diagnostics.Any(d => d.IsError);
            invalid += ok ? 0 : 1;
            if (!github)
            {
                Out.MarkupLine(ok ? $"[green]✓[/] {Markup.Escape(name)}" : $"[red]✗[/] {Markup.Escape(name)}");
            }

            foreach (var diagnostic in diagnostics)
            {
                Print(diagnostic, github);
            }
        }

        var total = names.Count + invalidNames.Count;
        Report(github, invalid == 0 ? $"{total} runbook{(total == 1 ? "" : "s")} valid" : $"{invalid} of {total} runbook{(total == 1 ? "" : "s")} invalid");
        return invalid == 0 ? ExitCodes.Ok : ExitCodes.Failed;
    }

    /// <summary>A review date that has passed, at the line that sets it.</summary>
    private static RunbookDiagnostic ReviewPassed(RunbookDocument document, DateOnly reviewBy, DateOnly today)
    {
        var lines = document.Source.Text.Split('\n');
        var line = Array.FindIndex(lines, l => l.TrimStart().StartsWith("//", StringComparison.Ordinal) && l.Contains("review_by:", StringComparison.Ordinal)) + 1;
        var date = reviewBy.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        return RunbookDiagnostic.Error(RunbookDiagnostic.DisplayPath(document.Source.MainPath), Math.Max(line, 1), "RB120",
            $"review_by {date} has passed (today is {today.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture)} UTC): review the runbook, then set a new review_by date");
    }

    private static void Print(RunbookDiagnostic diagnostic, bool github)
    {
        if (github)
        {
            // https://docs.github.com/actions/reference/workflow-commands-for-github-actions#setting-an-error-message
            var kind = diagnostic.IsError ? "error" : "warning";
            var column = diagnostic.Column > 0 ? $",col={diagnostic.Column}" : "";
            Console.WriteLine($"::{kind} file={Escape(diagnostic.File, true)},line={diagnostic.Line}{column},title=runbook {diagnostic.Code}::{Escape(diagnostic.Message, false)}");
        }
        else
        {
            var colour = diagnostic.IsError ? "red" : "yellow";
            Out.MarkupLine($"  [{colour}]{Markup.Escape(diagnostic.ToString())}[/]");
        }
    }

    private static void Report(bool github, string line)
    {
        if (github)
        {
            Console.WriteLine(line);
        }
        else
        {
            Out.MarkupLine(Markup.Escape(line));
        }
    }

    private static string Escape(string value, bool property)
    {
        var escaped = value.Replace("%", "%25", StringComparison.Ordinal).Replace("\r", "%0D", StringComparison.Ordinal).Replace("\n", "%0A", StringComparison.Ordinal);
        return property ? escaped.Replace(":", "%3A", StringComparison.Ordinal).Replace(",", "%2C", StringComparison.Ordinal) : escaped;
    }
}
