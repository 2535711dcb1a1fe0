using System.Globalization;
using RunbookEngine.Sdk;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RunbookEngine.Trust.Drills;

/// <summary>
/// The part of a runbook's test case (<c>tests/RUNBOOK/CASE.yaml</c> in the runbook folder) a drill needs: the alert it
/// is started by (inline <c>alert:</c>) and the <c>parameters:</c> it is given. Other keys belong to the test runner and
/// are ignored here.
/// </summary>
/// <param name="Alert">The alert, when the case gives one.</param>
/// <param name="Parameters">Parameter values as text, by name.</param>
internal sealed record DrillCase(RunbookAlert? Alert, IReadOnlyDictionary<string, string> Parameters)
{
    /// <summary>The case file's path, relative to the runbook folder.</summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="testCase">The case's name.</param>
    /// <returns>The path, with forward slashes.</returns>
    public static string RelativePath(string runbook, string testCase) => $"tests/{runbook}/{testCase}.yaml";

    /// <summary>Reads a case from the runbook folder; every failure is a sentence naming the file, never an exception.</summary>
    /// <param name="folder">The runbook folder.</param>
    /// <param name="runbook">The runbook.</param>
    /// <param name="testCase">The case's name (already checked by the front matter parser to be a plain file name).</param>
    /// <param name="now">When the drill starts: the alert's start.</param>
    /// <returns>The case, or why it cannot be used.</returns>
    public static (DrillCase? Case, string? Error) Read(string folder, string runbook, string testCase, DateTimeOffset now)
    {
        var relative = RelativePath(runbook, testCase);
        var path = Path.Combine(folder, "tests", runbook, testCase + ".yaml");
        if (!File.Exists(path))
        {
            return (null, $"the drill's test case {relative} does not exist in the runbook folder");
        }

        try
        {
            return Parse(File.ReadAllText(path), relative, runbook, testCase, now);
        }
        catch (IOException ex)
        {
            return (null, $"the drill's test case {relative} cannot be read: {ex.Message}");
        }
        catch (UnauthorizedAccessException ex)
        {
            return (null, $"the drill's test case {relative} cannot be read: {ex.Message}");
        }
    }

    /// <summary>Parses a case's text.</summary>
    /// <param name="text">The YAML.</param>
    /// <param name="relative">Its path, for messages.</param>
    /// <param name="runbook">The runbook.</param>
    /// <param name="testCase">The case.</param>
    /// <param name="now">The alert's start.</param>
    /// <returns>The case, or why it cannot be used.</returns>
    public static (DrillCase? Case, string? Error) Parse(string text, string relative, string runbook, string testCase, DateTimeOffset now)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            return (null, $"{relative}:{ex.Start.Line}: not valid YAML: {ex.Message}");
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            return (null, $"{relative}: must be a mapping with `alert:` and/or `parameters:`");
        }

        var parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Child(root, "parameters") is { } given)
        {
            if (given is not YamlMappingNode map)
            {
                return (null, $"{relative}:{Line(given)}: `parameters:` must be a mapping of name: value");
            }

            foreach (var (key, value) in map.Children)
            {
                if (value is not YamlScalarNode { Value: { } scalar })
                {
                    return (null, $"{relative}:{Line(value)}: parameter `{Text(key)}` must be a single value");
                }

                parameters[Text(key)] = scalar;
            }
        }

        if (Child(root, "alert") is not { } alertNode)
        {
            return Child(root, "payload") is { } payload
                ? (null, $"{relative}:{Line(payload)}: drills read an inline `alert:` only; this case gives `payload:`, so drill against a recorded alert (`drill: {{ alert: ID }}`) or add `alert:` to the case")
                : (new DrillCase(null, parameters), null);
        }

        if (alertNode is not YamlMappingNode alert)
        {
            return (null, $"{relative}:{Line(alertNode)}: `alert:` must be a mapping such as `{{ name: DiskFull, labels: {{ instance: web-1 }} }}`");
        }

        if (Child(alert, "name") is not YamlScalarNode { Value: { Length: > 0 } name })
        {
            return (null, $"{relative}:{Line(alert)}: `alert:` needs a `name:`");
        }

        var source = Child(alert, "source") is YamlScalarNode { Value: { Length: > 0 } s } ? s : "generic";
        var labels = Strings(alert, "labels", relative, out var labelError);
        var annotations = Strings(alert, "annotations", relative, out var annotationError);
        if ((labelError ?? annotationError) is { } error)
        {
            return (null, error);
        }

        var fingerprint = $"drill:{runbook}/{testCase}";
        var severity = labels!.TryGetValue("severity", out var level) ? level : null;
        return (new DrillCase(new RunbookAlert(source, name, AlertStatus.Firing, severity, labels, annotations!, now, null, fingerprint), parameters), null);
    }

    private static Dictionary<string, string>? Strings(YamlMappingNode alert, string key, string relative, out string? error)
    {
        error = null;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (Child(alert, key) is not { } node)
        {
            return values;
        }

        if (node is not YamlMappingNode map)
        {
            error = $"{relative}:{Line(node)}: `alert.{key}:` must be a mapping of name: value";
            return null;
        }

        foreach (var (name, value) in map.Children)
        {
            if (value is not YamlScalarNode { Value: { } text })
            {
                error = $"{relative}:{Line(value)}: `alert.{key}.{Text(name)}` must be a single value";
                return null;
            }

            values[Text(name)] = text;
        }

        return values;
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static string Text(YamlNode node) => node is YamlScalarNode { Value: { } value } ? value : node.ToString();

    private static string Line(YamlNode node) => node.Start.Line.ToString(CultureInfo.InvariantCulture);
}
