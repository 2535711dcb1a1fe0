using System.Diagnostics;
using RunbookEngine.Alerts;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Runs runbook test cases: each compiles its runbook, binds its parameters from the case's alert, and executes it in a
/// scratch working folder with every command, HTTP request and human answer taken from the case. Nothing real is
/// touched through <c>Shell</c> or <c>Http</c>; a call the case has no stub for fails the case and says which.
/// </summary>
/// <remarks>
/// Cases run one at a time: the scratch folder is the process's working directory while a case runs, so that a
/// runbook's relative paths land there, and there is only one working directory per process.
/// </remarks>
/// <param name="compiler">Compiles the runbooks (with its cache, if it has one).</param>
/// <param name="time">The clock the runs use.</param>
public sealed class TestCaseRunner(RunbookCompiler compiler, TimeProvider time)
{
    /// <summary>Where a runbook folder keeps its cases: <c>tests/RUNBOOK/CASE.yaml</c>.</summary>
    public const string TestsFolder = "tests";

    // The working directory is the process's; one case at a time, whoever calls.
    private static readonly SemaphoreSlim WorkingDirectory = new(1, 1);

    /// <summary>The case files of a runbook folder, sorted by runbook and case.</summary>
    /// <param name="folder">The runbook folder.</param>
    /// <param name="runbook">Only this runbook's cases; all when null.</param>
    /// <returns>The case files' full paths.</returns>
    public static IReadOnlyList<string> FindCases(string folder, string? runbook = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var tests = Path.Combine(Path.GetFullPath(folder), TestsFolder);
        if (!Directory.Exists(tests))
        {
            return [];
        }

        return [.. Directory.EnumerateDirectories(tests)
            .Where(directory => runbook is null || string.Equals(Path.GetFileName(directory), runbook, StringComparison.Ordinal))
            .SelectMany(directory => Directory.EnumerateFiles(directory, "*.yaml").Concat(Directory.EnumerateFiles(directory, "*.yml")))
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Runs one case against the runbooks of <paramref name="folder"/>. Never throws for the case's sake.</summary>
    /// <param name="folder">The runbook folder.</param>
    /// <param name="file">The case file.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>Whether it passed, and every difference between what it expects and what the run did.</returns>
    public async Task<CaseResult> RunAsync(string folder, string file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(file);
        var started = Stopwatch.GetTimestamp();
        file = Path.GetFullPath(file);
        var failures = new List<CaseFailure>();
        TestCase? testCase = null;
        RunResult? run = null;
        try
        {
            testCase = TestCaseReader.Read(file);
            run = await RunAsync(new RunbookFolder(folder), testCase, failures, cancellationToken);
        }
        catch (TestCaseException ex)
        {
            failures.Add(new CaseFailure(ex.Message, ex.Line));
        }

        return new CaseResult(
            file,
            testCase?.Runbook ?? Path.GetFileName(Path.GetDirectoryName(file)) ?? "",
            testCase?.Name ?? Path.GetFileNameWithoutExtension(file),
            testCase?.Description,
            failures,
            Stopwatch.GetElapsedTime(started),
            run);
    }

    private async Task<RunResult?> RunAsync(RunbookFolder folder, TestCase testCase, List<CaseFailure> failures, CancellationToken cancellationToken)
    {
        var document = folder.Exists ? folder.Read(testCase.Runbook) : null;
        if (document is null)
        {
            throw new TestCaseException($"no runbook '{testCase.Runbook}' in {folder.Root}: a case in {TestsFolder}/{testCase.Runbook}/ tests {testCase.Runbook}.csx", 1);
        }

        if (!document.IsValid || document.Definition is not { } definition)
        {
            throw new TestCaseException($"{testCase.Runbook} is not valid: {string.Join("; ", document.Diagnostics.Where(d => d.IsError))}", 1);
        }

        var alert = testCase.Alert ?? (testCase.Payload is { } payload ? Decode(testCase, payload) : null);
        if (!CheckMatches(folder, testCase, alert, failures))
        {
            // As in production, an alert that does not match the runbook does not start it: there is no run.
            var expect = testCase.Expect;
            if (expect.Steps is not null || expect.Status is not null || expect.Error is not null || expect.Proposal is not null || expect.Parameters.Count > 0)
            {
                failures.Add(new CaseFailure($"the alert does not start {testCase.Runbook}, so there is no run to compare with steps:, status:, error:, proposal: or parameters:", expect.Line));
            }

            return null;
        }

        var compiled = await compiler.CompileAsync(document.Source, cancellationToken);
        if (compiled.Runbook is not { } runbook)
        {
            throw new TestCaseException($"{testCase.Runbook} does not compile: {string.Join("; ", compiled.Errors)}", 1);
        }

        using (runbook)
        {
            var bound = ParameterBinder.Bind(definition, testCase.Parameters, alert);
            if (bound.Parameters is not { } parameters)
            {
                throw new TestCaseException($"its parameters do not bind: {string.Join("; ", bound.Errors)}", 1);
            }

            var unstubbed = new List<CaseFailure>();
            var journal = new CaseJournal();
            var request = new RunRequest
            {
                Runbook = runbook,
                Definition = definition,
                Run = new RunInfo($"case-{Guid.NewGuid():N}", testCase.Runbook, 1, alert is null ? RunTrigger.Manual : RunTrigger.Alert,
                    alert?.Fingerprint ?? "test-case", null, document.Source.ContentHash, DryRun: false, RunModes.For(definition, alert is null ? RunTrigger.Manual : RunTrigger.Alert)),
                Parameters = parameters,
                Alert = alert,
                Journal = journal,
                HumanGate = new CaseHumans(testCase.Humans, unstubbed, testCase.LineOf("humans")),
                Secrets = new CaseSecrets(testCase.Secrets),
                Commands = new CaseCommands(testCase.Commands, unstubbed, testCase.LineOf("commands")),
                HttpHandler = new CaseHttp(testCase.Http, unstubbed, testCase.LineOf("http"), () => journal.Current),
                Time = time,
            };

            var result = await ExecuteInScratchAsync(testCase, request, cancellationToken);
            failures.AddRange(unstubbed.Distinct());
            Compare(testCase.Expect, result, parameters.ToDisplay(), failures);
            return result;
        }
    }

    private RunbookAlert Decode(TestCase testCase, CasePayload payload)
    {
        var path = Path.Combine(Path.GetDirectoryName(testCase.File)!, payload.File);
        byte[] body;
        try
        {
            body = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TestCaseException($"payload.file: cannot read {payload.File} (beside the case): {ex.Message}", payload.Line);
        }

        var source = AlertSources.Find(payload.Source)!;
        var request = new WebhookRequest(body, "application/json", new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));
        return source.Parse(request, time.GetUtcNow()) switch
        {
            WebhookRejected rejected => throw new TestCaseException($"payload: the {source.Name} source refuses {payload.File}: {rejected.Reason}", payload.Line),
            WebhookAccepted accepted when accepted.Alerts.Count <= payload.Index =>
                throw new TestCaseException($"payload.index: {payload.File} carries {accepted.Alerts.Count} alert(s), so there is no alert {payload.Index} (counting from 0)", payload.Line),
            WebhookAccepted accepted => accepted.Alerts[payload.Index].Alert,
            _ => throw new InvalidOperationException("an alert source answered neither accepted nor rejected"),
        };
    }

    /// <summary>
    /// Checks which runbooks of the folder the alert starts (without <c>matches:</c>, at least the case's own), and
    /// says whether it starts the case's runbook; a case without an alert runs it as a person would.
    /// </summary>
    private static bool CheckMatches(RunbookFolder folder, TestCase testCase, RunbookAlert? alert, List<CaseFailure> failures)
    {
        if (alert is null)
        {
            if (testCase.Expect.Matches is { Count: > 0 })
            {
                failures.Add(new CaseFailure("expect.matches names runbooks, but the case gives no alert: or payload: to match", testCase.Expect.LineOf("matches")));
            }

            return true;
        }

        var matches = folder.Names()
            .Where(name => folder.Read(name)?.Definition is { } definition && definition.Alerts.Any(rule => AlertMatcher.Matches(rule, alert)))
            .ToList();
        if (testCase.Expect.Matches is { } expected)
        {
            if (!expected.SequenceEqual(matches, StringComparer.Ordinal))
            {
                failures.Add(new CaseFailure($"matches: expected [{string.Join(", ", expected)}], the alert matches [{string.Join(", ", matches)}]", testCase.Expect.LineOf("matches")));
            }
        }
        else if (!matches.Contains(testCase.Runbook, StringComparer.Ordinal))
        {
            failures.Add(new CaseFailure($"the alert {alert.Name} does not match {testCase.Runbook}'s alerts: rules, so it would not start it (it matches [{string.Join(", ", matches)}]); fix the alert, or say expect.matches: [] if that is the point", testCase.Expect.Line));
        }

        return matches.Contains(testCase.Runbook, StringComparer.Ordinal);
    }

    private static async Task<RunResult> ExecuteInScratchAsync(TestCase testCase, RunRequest request, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("runbook-case-").FullName;
        try
        {
            foreach (var seeded in testCase.Files)
            {
                var path = Path.Combine(scratch, seeded.Path);
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await File.WriteAllTextAsync(path, seeded.Content, cancellationToken);
                if (seeded.Age is { } age)
                {
                    File.SetLastWriteTimeUtc(path, (request.Time.GetUtcNow() - age).UtcDateTime);
                }
            }

            await WorkingDirectory.WaitAsync(cancellationToken);
            var previous = Environment.CurrentDirectory;
            try
            {
                Environment.CurrentDirectory = scratch;
                return await RunbookExecutor.ExecuteAsync(request, cancellationToken);
            }
            finally
            {
                Environment.CurrentDirectory = previous;
                WorkingDirectory.Release();
            }
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
                // Something the runbook left open; the temp folder is the OS's to clean.
            }
            catch (UnauthorizedAccessException)
            {
                // A file the runbook made read-only; as above.
            }
        }
    }

    private static void Compare(CaseExpectation expect, RunResult result, IReadOnlyDictionary<string, string?> parameters, List<CaseFailure> failures)
    {
        var error = result.Error is { } e ? $" ({e})" : "";
        if (expect.Status is { } status && !string.Equals(status, result.Status.ToString(), StringComparison.Ordinal))
        {
            failures.Add(new CaseFailure($"status: expected {status}, the run ended {result.Status}{error}", expect.LineOf("status")));
        }

        if (expect.Error is { } text && (result.Error is null || !result.Error.Contains(text, StringComparison.Ordinal)))
        {
            failures.Add(new CaseFailure($"error: expected it to contain '{text}', the run's error is {(result.Error is null ? "none" : $"'{result.Error}'")}", expect.LineOf("error")));
        }

        if (expect.Proposal is { } proposal && !string.Equals(proposal, result.Proposal?.Step, StringComparison.Ordinal))
        {
            failures.Add(new CaseFailure($"proposal: expected step '{proposal}', the run proposed {(result.Proposal is { } p ? $"'{p.Step}'" : "nothing")}", expect.LineOf("proposal")));
        }

        foreach (var (name, value) in expect.Parameters)
        {
            if (!parameters.TryGetValue(name, out var bound))
            {
                failures.Add(new CaseFailure($"parameters.{name}: expected '{value}', the runbook has no such parameter (it has {string.Join(", ", parameters.Keys)})", expect.LineOf("parameters")));
            }
            else if (!string.Equals(value, bound, StringComparison.Ordinal))
            {
                failures.Add(new CaseFailure($"parameters.{name}: expected '{value}', bound '{bound}'", expect.LineOf("parameters")));
            }
        }

        if (expect.Steps is { } steps)
        {
            CompareSteps(steps, result.Steps, failures, expect.LineOf("steps"));
        }
    }

    private static void CompareSteps(IReadOnlyList<ExpectedStep> expected, IReadOnlyList<StepOutcome> actual, List<CaseFailure> failures, int line)
    {
        for (var i = 0; i < Math.Max(expected.Count, actual.Count); i++)
        {
            var number = i + 1;
            if (i >= actual.Count)
            {
                failures.Add(new CaseFailure($"step {number}: expected '{expected[i].Name}', the run has no step {number} (it reached {actual.Count})", expected[i].Line));
            }
            else if (i >= expected.Count)
            {
                failures.Add(new CaseFailure($"step {number}: '{actual[i].Name}' ({actual[i].Status}) was not expected (the case expects {expected.Count} steps)", line));
            }
            else if (!string.Equals(expected[i].Name, actual[i].Name, StringComparison.Ordinal))
            {
                failures.Add(new CaseFailure($"step {number}: expected '{expected[i].Name}', the run's step {number} is '{actual[i].Name}' ({actual[i].Status})", expected[i].Line));
            }
            else if (expected[i].Status is { } status && !string.Equals(status, actual[i].Status.ToString(), StringComparison.Ordinal))
            {
                failures.Add(new CaseFailure($"step {number} '{actual[i].Name}': expected {status}, it ended {actual[i].Status}{(actual[i].Error is { } error ? $" ({error})" : "")}", expected[i].Line));
            }
        }
    }
}

/// <summary>How a case went.</summary>
/// <param name="File">The case file.</param>
/// <param name="Runbook">The runbook it tests.</param>
/// <param name="Name">The case's name.</param>
/// <param name="Description">The case's description.</param>
/// <param name="Failures">Every way the run differed from what the case expects, or why it could not run; none when it passed.</param>
/// <param name="Duration">How long the case took.</param>
/// <param name="Run">How the run ended, when it ran.</param>
public sealed record CaseResult(string File, string Runbook, string Name, string? Description, IReadOnlyList<CaseFailure> Failures, TimeSpan Duration, RunResult? Run)
{
    /// <summary>True when the run did everything the case expects and made no call the case does not stub.</summary>
    public bool Passed => Failures.Count == 0;
}

/// <summary>One difference between a case and its run, with the case file's line it concerns.</summary>
/// <param name="Message">What differs: expected against actual.</param>
/// <param name="Line">The line of the case file, 1-based.</param>
public sealed record CaseFailure(string Message, int Line);
