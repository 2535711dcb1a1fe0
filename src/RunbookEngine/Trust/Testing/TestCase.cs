using System.Text.RegularExpressions;
using RunbookEngine.Sdk;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// One runbook test case, read from <c>runbooks/tests/RUNBOOK/CASE.yaml</c>: the alert that starts the run, stubbed
/// results for the commands and HTTP calls it makes, files seeded into its scratch folder, answers for its human steps,
/// and what the run must do.
/// </summary>
public sealed record TestCase
{
    /// <summary>The case file.</summary>
    public required string File { get; init; }

    /// <summary>The runbook it tests: the name of the folder holding the file.</summary>
    public required string Runbook { get; init; }

    /// <summary>The case's name: the file name without <c>.yaml</c>.</summary>
    public required string Name { get; init; }

    /// <summary>What the case is about, for people.</summary>
    public string? Description { get; init; }

    /// <summary>The alert written inline, when the case gives one.</summary>
    public RunbookAlert? Alert { get; init; }

    /// <summary>A webhook body decoded by its sender's source, when the case gives one instead of an inline alert.</summary>
    public CasePayload? Payload { get; init; }

    /// <summary>Parameters given as by hand (they win over the alert and the defaults).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Secrets the runbook reads, by name; no other secret is found.</summary>
    public IReadOnlyDictionary<string, string> Secrets { get; init; } = new Dictionary<string, string>();

    /// <summary>Files seeded into the case's scratch working folder before the run.</summary>
    public IReadOnlyList<CaseFile> Files { get; init; } = [];

    /// <summary>Stubbed results for the commands the runbook runs, in the order they are used.</summary>
    public IReadOnlyList<CommandStub> Commands { get; init; } = [];

    /// <summary>Stubbed responses to the runbook's HTTP requests, in the order they are used.</summary>
    public IReadOnlyList<HttpStub> Http { get; init; } = [];

    /// <summary>Answers to the run's manual steps and approvals, in the order they are asked.</summary>
    public IReadOnlyList<HumanAnswer> Humans { get; init; } = [];

    /// <summary>What the run must do.</summary>
    public CaseExpectation Expect { get; init; } = new();

    /// <summary>The line of each top-level key, so a failure about stubs or answers points at them.</summary>
    public IReadOnlyDictionary<string, int> Lines { get; init; } = new Dictionary<string, int>();

    /// <summary>The line of a top-level key, or 1 when the case does not give it.</summary>
    /// <param name="key">The key, e.g. <c>commands</c>.</param>
    /// <returns>The 1-based line.</returns>
    public int LineOf(string key) => Lines.GetValueOrDefault(key, 1);
}

/// <summary>A webhook body in a file beside the case, decoded by the named sender's alert source.</summary>
/// <param name="Source">The sender: <c>alertmanager</c>, <c>grafana</c>, <c>pagerduty</c>, ...</param>
/// <param name="File">The body's file, relative to the case file.</param>
/// <param name="Index">Which of the alerts it carries starts the run (0 for the first).</param>
/// <param name="Line">Where the case names it.</param>
public sealed record CasePayload(string Source, string File, int Index, int Line);

/// <summary>A file seeded into the case's scratch folder.</summary>
/// <param name="Path">Where, relative to the scratch folder.</param>
/// <param name="Content">Its text.</param>
/// <param name="Age">How long ago it was last written; now when null.</param>
/// <param name="Line">Where the case gives it.</param>
public sealed record CaseFile(string Path, string Content, TimeSpan? Age, int Line);

/// <summary>A stubbed command result: for the command line given exactly (<c>run:</c>) or matching a pattern (<c>match:</c>).</summary>
/// <param name="Run">The exact command line as the run shows it, or null.</param>
/// <param name="Match">A pattern the command line must match, or null.</param>
/// <param name="Exit">The exit code.</param>
/// <param name="StdOut">Standard output.</param>
/// <param name="StdErr">Standard error.</param>
/// <param name="Line">Where the case gives it.</param>
public sealed record CommandStub(string? Run, Regex? Match, int Exit, string StdOut, string StdErr, int Line)
{
    /// <summary>Whether this stub answers the command line.</summary>
    /// <param name="commandLine">The command line as displayed.</param>
    /// <returns>True when it does.</returns>
    public bool Answers(string commandLine) =>
        Run is not null ? string.Equals(Run, commandLine, StringComparison.Ordinal) : Match!.IsMatch(commandLine);

    /// <summary>How the case names the command.</summary>
    public string Shown => Run ?? "match: " + Match;
}

/// <summary>A stubbed HTTP response: for a method and a URL given exactly (<c>url:</c>) or matching a pattern (<c>match:</c>).</summary>
/// <param name="Method">The request method.</param>
/// <param name="Url">The exact URL, or null.</param>
/// <param name="Match">A pattern the URL must match, or null.</param>
/// <param name="Status">The response status; 0 answers with a connection failure.</param>
/// <param name="Body">The response body.</param>
/// <param name="ContentType">The response's media type, if any.</param>
/// <param name="Line">Where the case gives it.</param>
public sealed record HttpStub(string Method, string? Url, Regex? Match, int Status, string Body, string? ContentType, int Line)
{
    /// <summary>Whether this stub answers the request.</summary>
    /// <param name="method">The request method.</param>
    /// <param name="url">The request URL as displayed.</param>
    /// <returns>True when it does.</returns>
    public bool Answers(string method, string url) =>
        string.Equals(Method, method, StringComparison.OrdinalIgnoreCase)
        && (Url is not null ? string.Equals(Url, url, StringComparison.Ordinal) : Match!.IsMatch(url));
}

/// <summary>A person's answer to a manual step or an approval.</summary>
/// <param name="Approved">True for done or approved; false for rejected.</param>
/// <param name="By">Who answers.</param>
/// <param name="Comment">What they write.</param>
/// <param name="Line">Where the case gives it.</param>
public sealed record HumanAnswer(bool Approved, string By, string? Comment, int Line);

/// <summary>What a case expects of the run; what it leaves out is not checked.</summary>
public sealed record CaseExpectation
{
    /// <summary>The runbooks of the folder whose <c>alerts:</c> rules match the case's alert, in name order.</summary>
    public IReadOnlyList<string>? Matches { get; init; }

    /// <summary>Bound parameters, as the run shows them (a subset of all of them).</summary>
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();

    /// <summary>Every step the run reaches, in order; null to not check them.</summary>
    public IReadOnlyList<ExpectedStep>? Steps { get; init; }

    /// <summary>The run's final status.</summary>
    public string? Status { get; init; }

    /// <summary>Text the run's error must contain.</summary>
    public string? Error { get; init; }

    /// <summary>For a shadow run that ends Proposed: the step it proposes.</summary>
    public string? Proposal { get; init; }

    /// <summary>Where the case gives its expectation.</summary>
    public int Line { get; init; } = 1;

    /// <summary>The line of each key of the expectation, so a difference points at what it concerns.</summary>
    public IReadOnlyDictionary<string, int> Lines { get; init; } = new Dictionary<string, int>();

    /// <summary>The line of one of the expectation's keys, or of the expectation when it does not give the key.</summary>
    /// <param name="key">The key, e.g. <c>status</c>.</param>
    /// <returns>The 1-based line.</returns>
    public int LineOf(string key) => Lines.GetValueOrDefault(key, Line);
}

/// <summary>A step the run must reach.</summary>
/// <param name="Name">The step's name.</param>
/// <param name="Status">Its status; not checked when null.</param>
/// <param name="Line">Where the case gives it.</param>
public sealed record ExpectedStep(string Name, string? Status, int Line);
