using System.Globalization;
using System.Text.Json;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Reads the marked lines of the cases' process (<see cref="ChildCases"/>): <c>count N</c> first, then for each case
/// <c>case-start PATH</c> and <c>case JSON</c>, then <c>done</c>. Lines without the mark are the runbooks' own output.
/// </summary>
/// <param name="mark">The secret the process prefixes its lines with.</param>
internal sealed class CaseLines(string mark)
{
    // The mark and a space: a runbook cannot print it, since it never saw the mark.
    private readonly string _prefix = mark + " ";

    // The cases reported so far, in order.
    private readonly List<CaseOutcome> _cases = [];

    /// <summary>The cases reported so far; an unreadable report is its case failing.</summary>
    public IReadOnlyList<CaseOutcome> Cases => _cases;

    /// <summary>The case started and not yet reported, relative to the runbook folder, or null.</summary>
    public string? Running { get; private set; }

    /// <summary>How many cases the process said it would report, or null before it said.</summary>
    public int? Announced { get; private set; }

    /// <summary>Whether the process said it was done.</summary>
    public bool Done { get; private set; }

    /// <summary>Reads one line of the process's standard output.</summary>
    /// <param name="line">The line, without its end.</param>
    /// <returns>True once the process has said it is done: nothing after that is read.</returns>
    public bool Read(string line)
    {
        ArgumentNullException.ThrowIfNull(line);
        if (Done || !line.StartsWith(_prefix, StringComparison.Ordinal))
        {
            return Done;
        }

        var rest = line[_prefix.Length..];
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        var (kind, payload) = space < 0 ? (rest, "") : (rest[..space], rest[(space + 1)..]);
        switch (kind)
        {
            case "count" when int.TryParse(payload, NumberStyles.None, CultureInfo.InvariantCulture, out var count):
                Announced = count;
                break;
            case "case-start":
                Running = IsCasePath(payload) ? payload : null;
                break;
            case "case":
                // A report that cannot be read (over the line cap, cut short) is the running case failing, not vanishing.
                _cases.Add(Parse(payload) ?? Unreadable(Running));
                Running = null;
                break;
            case "done":
                Done = true;
                break;
        }

        return Done;
    }

    /// <summary>The report once the process said it was done: failed when it reported fewer or more cases than it announced.</summary>
    /// <returns>The report.</returns>
    public CaseRunReport Finished() =>
        Announced == _cases.Count
            ? new CaseRunReport(_cases)
            : new CaseRunReport(_cases, string.Create(CultureInfo.InvariantCulture,
                $"the test cases' process said it was done after reporting {_cases.Count} of {Announced?.ToString(CultureInfo.InvariantCulture) ?? "an unannounced number of"} cases"));

    /// <summary>Whether a case's path, as the process names it, is a case file of the runbook folder: <c>tests/RUNBOOK/CASE.yaml</c>.</summary>
    /// <param name="path">The path, relative to the runbook folder.</param>
    /// <returns>True when it names a file under <c>tests/</c> without <c>.</c> or <c>..</c>.</returns>
    public static bool IsCasePath(string path) =>
        !Path.IsPathRooted(path)
        && path.Split('/', '\\') is [TestCaseRunner.TestsFolder, .. var rest] && rest.Length > 0
        && rest.All(part => part.Length > 0 && part is not ("." or ".."));

    private static CaseOutcome Unreadable(string? running)
    {
        var parts = (running ?? "").Split('/');
        return new CaseOutcome(
            running ?? TestCaseRunner.TestsFolder,
            parts.Length >= 3 ? parts[^2] : "?",
            parts.Length >= 3 ? Path.GetFileNameWithoutExtension(parts[^1]) : "?",
            [new CaseFailure("the case's outcome could not be read (its report was cut at the 1 MiB line limit or was not JSON), so it counts as failed", 1)]);
    }

    private static CaseOutcome? Parse(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<CaseOutcome>(json, CaseProcess.Json) is { File: not null, Runbook: not null, Name: not null, Failures: not null } outcome
                && outcome.Failures.All(f => f?.Message is not null)
                && IsCasePath(outcome.File)
                ? outcome
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
