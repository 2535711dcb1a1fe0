using System.Globalization;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Writes a test case from a real alert and the run it started: the alert inline, the run's recorded commands and
/// HTTP calls as stubs in the order they happened, the people's answers, and the run's parameters, steps and status as
/// what the case expects. Run by <c>runbook test</c> against the same runbook, it passes; change the runbook's logic
/// and it fails.
/// </summary>
public static partial class TestCaseRecording
{
    /// <summary>Builds the case's YAML.</summary>
    /// <param name="recorded">The alert, the run and its calls.</param>
    /// <returns>The case file's text.</returns>
    public static string Write(RecordedRun recorded)
    {
        ArgumentNullException.ThrowIfNull(recorded);
        var alert = recorded.Alert;
        var replayed = Replayed(recorded.Calls);
        var description = $"recorded from alert {recorded.AlertId} ({alert.Name}) and run {recorded.RunId} of {recorded.Runbook}, which ended {recorded.Status}";
        if (replayed.Where(call => call.Kind == RecordedCall.OmittedKind).Sum(call => call.Status) is > 0 and var omitted)
        {
            description += $"; {omitted} of its calls were not recorded (at most {RecordedCall.MaxPerAttempt} an attempt), so stub those by hand";
        }

        var root = new YamlMappingNode
        {
            { "description", Text(description) },
            { "alert", Alert(alert) },
        };

        var commands = new YamlSequenceNode();
        var http = new YamlSequenceNode();
        foreach (var call in replayed.Where(call => call.Kind != RecordedCall.OmittedKind))
        {
            if (call.Kind == RecordedCall.HttpKind)
            {
                http.Add(HttpStub(call));
            }
            else
            {
                commands.Add(CommandStub(call));
            }
        }

        if (commands.Children.Count > 0)
        {
            root.Add("commands", commands);
        }

        if (http.Children.Count > 0)
        {
            root.Add("http", http);
        }

        var humans = new YamlSequenceNode();
        foreach (var step in recorded.Steps.Where(step => step.Kind != StepKind.Automated && step.Status is StepStatus.Succeeded or StepStatus.Failed && step.Actor != StepOutcome.MachineActor))
        {
            var answer = new YamlMappingNode { { "answer", step.Status == StepStatus.Succeeded ? (step.Kind == StepKind.Approval ? "approve" : "done") : "reject" }, { "by", Text(step.Actor) } };
            if (step.Comment is { Length: > 0 } comment)
            {
                answer.Add("comment", Text(comment));
            }

            answer.Style = MappingStyle.Flow;
            humans.Add(answer);
        }

        if (humans.Children.Count > 0)
        {
            root.Add("humans", humans);
        }

        var expect = new YamlMappingNode();
        var parameters = recorded.Parameters.Where(pair => pair.Value != Sdk.Hosting.Redactor.Mask).ToList();
        if (parameters.Count > 0)
        {
            expect.Add("parameters", Strings(parameters));
        }

        var steps = new YamlSequenceNode();
        foreach (var step in recorded.Steps)
        {
            steps.Add(new YamlMappingNode { { "name", Text(step.Name) }, { "status", step.Status.ToString() } });
        }

        expect.Add("steps", steps);
        expect.Add("status", recorded.Status.ToString());
        if (recorded.Status == RunStatus.Proposed && recorded.Proposal is { } proposal)
        {
            expect.Add("proposal", Text(proposal));
        }

        root.Add("expect", expect);

        var stream = new YamlStream(new YamlDocument(root));
        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();

        // YamlStream ends a document with "...", which a person editing the case would only wonder about.
        var end = text.TrimEnd().EndsWith("...", StringComparison.Ordinal) ? text.TrimEnd()[..^3] : text;
        return end.TrimEnd() + "\n";
    }

    /// <summary>
    /// The calls a replay of the run from the start meets: for each step, those of the last attempt that made calls in it.
    /// </summary>
    /// <remarks>
    /// Not simply the last attempt's: a retry replays the steps that succeeded before from the journal without running
    /// them, so their calls are only in the attempt that ran them; while a failed step's calls from an earlier attempt
    /// would be answered first and replay the failure. A run resumed after a person answered keeps its attempt number,
    /// so both halves of that attempt are kept.
    /// </remarks>
    private static List<RecordedCall> Replayed(IReadOnlyList<RecordedCall> calls)
    {
        var lastAttempt = calls.GroupBy(call => call.StepSequence).ToDictionary(group => group.Key, group => group.Max(call => call.Attempt));
        return [.. calls.Where(call => call.Attempt == lastAttempt[call.StepSequence]).OrderBy(call => call.Sequence)];
    }

    private static YamlMappingNode Alert(RunbookAlert alert)
    {
        var node = new YamlMappingNode
        {
            { "name", Text(alert.Name) },
            { "source", Text(alert.Source) },
            { "status", alert.Status == AlertStatus.Resolved ? "resolved" : "firing" },
        };
        if (alert.Severity is { } severity && alert.Label("severity") != severity)
        {
            node.Add("severity", Text(severity));
        }

        node.Add("labels", Strings(alert.Labels));
        node.Add("annotations", Strings(alert.Annotations));
        node.Add("fingerprint", Text(alert.Fingerprint));
        node.Add("starts_at", alert.StartsAt.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        if (alert.EndsAt is { } ends)
        {
            node.Add("ends_at", ends.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
        }

        return node;
    }

    private static YamlMappingNode CommandStub(RecordedCall call)
    {
        var node = new YamlMappingNode { { "run", Text(call.Request) }, { "exit", call.Status.ToString(CultureInfo.InvariantCulture) } };
        if (call.Output.Length > 0)
        {
            node.Add("stdout", Text(call.Output));
        }

        if (call.ErrorOutput is { Length: > 0 } stderr)
        {
            node.Add("stderr", Text(stderr));
        }

        return node;
    }

    private static YamlMappingNode HttpStub(RecordedCall call)
    {
        var space = call.Request.IndexOf(' ', StringComparison.Ordinal);
        var node = new YamlMappingNode
        {
            { "method", space < 0 ? "GET" : call.Request[..space] },
            { "url", Text(space < 0 ? call.Request : call.Request[(space + 1)..]) },
            { "status", call.Status.ToString(CultureInfo.InvariantCulture) },
        };
        if (call.Output.Length > 0)
        {
            node.Add("body", Text(call.Output));
        }

        if (call.ErrorOutput is { Length: > 0 } type)
        {
            node.Add("content_type", Text(type));
        }

        return node;
    }

    private static YamlMappingNode Strings(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var node = new YamlMappingNode();
        foreach (var (key, value) in pairs.OrderBy(pair => pair.Key, StringComparer.Ordinal))
        {
            node.Add(Text(key), Text(value));
        }

        return node;
    }

    /// <summary>
    /// A string as YAML must keep it: quoted when plain text would read back as something else (empty, a number, a
    /// key, lines), so the case replays exactly what was recorded.
    /// </summary>
    private static YamlScalarNode Text(string value) =>
        new(value) { Style = PlainText().IsMatch(value) ? ScalarStyle.Plain : ScalarStyle.DoubleQuoted };

    // Words, paths and sentences without YAML's own punctuation (": ", " #", a leading "-", quotes) or line breaks.
    [GeneratedRegex(@"^[A-Za-z0-9/]([A-Za-z0-9 _./@+()-]*[A-Za-z0-9_./@+()-])?$", RegexOptions.CultureInvariant)]
    private static partial Regex PlainText();
}

/// <summary>What a case is recorded from.</summary>
/// <param name="AlertId">The stored alert's id.</param>
/// <param name="Alert">The alert as it was normalised.</param>
/// <param name="Runbook">The runbook its run ran.</param>
/// <param name="RunId">The run.</param>
/// <param name="Status">How the run ended.</param>
/// <param name="Parameters">The run's bound parameters as shown (secret ones masked, and left out of the case).</param>
/// <param name="Steps">The run's journal.</param>
/// <param name="Calls">The run's recorded commands and HTTP calls, in order.</param>
public sealed record RecordedRun(
    string AlertId,
    RunbookAlert Alert,
    string Runbook,
    string RunId,
    RunStatus Status,
    IReadOnlyDictionary<string, string> Parameters,
    IReadOnlyList<StepOutcome> Steps,
    IReadOnlyList<RecordedCall> Calls)
{
    /// <summary>For a run that ended <see cref="RunStatus.Proposed"/>: the step it proposed.</summary>
    public string? Proposal { get; init; }
}
