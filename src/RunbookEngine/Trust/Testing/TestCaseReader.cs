using System.Globalization;
using System.Text.RegularExpressions;
using RunbookEngine.Alerts.Sources;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Sdk;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RunbookEngine.Trust.Testing;

/// <summary>
/// Reads a case file. Hand-mapped from YAML's node tree rather than deserialised, so every error names the line and
/// the key a person has to fix, and a key nobody reads (a typo such as <c>stauts:</c>) is an error, not a silent no-op.
/// </summary>
public static class TestCaseReader
{
    private static readonly string[] TopKeys = ["description", "alert", "payload", "parameters", "secrets", "files", "commands", "http", "humans", "expect"];

    /// <summary>Reads the case file at <paramref name="path"/>, whose folder names the runbook it tests.</summary>
    /// <param name="path">The case file: <c>.../tests/RUNBOOK/CASE.yaml</c>.</param>
    /// <returns>The case.</returns>
    /// <exception cref="TestCaseException">The file cannot be read or is not a valid case; the message names the line.</exception>
    public static TestCase Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = System.IO.File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TestCaseException($"cannot read the case: {ex.Message}", 1);
        }

        return Parse(path, text);
    }

    /// <summary>Parses a case's text.</summary>
    /// <param name="path">The case file (its folder names the runbook, its name the case).</param>
    /// <param name="text">The YAML.</param>
    /// <returns>The case.</returns>
    /// <exception cref="TestCaseException">The text is not a valid case; the message names the line.</exception>
    public static TestCase Parse(string path, string text)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(text);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new TestCaseException($"not valid YAML: {ex.InnerException?.Message ?? ex.Message}", (int)ex.Start.Line);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new TestCaseException("a case is a YAML mapping with at least an expect: key", 1);
        }

        var map = new Map(root, "");
        map.OnlyKeys(TopKeys);
        var alert = map.Get("alert");
        var payload = map.Get("payload");
        if (alert is not null && payload is not null)
        {
            throw new TestCaseException("give either alert: or payload:, not both", Line(payload));
        }

        if (map.Get("expect") is null)
        {
            throw new TestCaseException("the case has no expect: (what the run must do)", 1);
        }

        return new TestCase
        {
            File = path,
            Runbook = System.IO.Path.GetFileName(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))) ?? "",
            Name = System.IO.Path.GetFileNameWithoutExtension(path),
            Description = map.String("description"),
            Alert = alert is null ? null : ReadAlert(new Map(AsMapping(alert, "alert"), "alert")),
            Payload = payload is null ? null : ReadPayload(new Map(AsMapping(payload, "payload"), "payload")),
            Parameters = map.StringMap("parameters"),
            Secrets = map.StringMap("secrets"),
            Files = [.. map.Items("files").Select((node, i) => ReadFile(new Map(AsMapping(node, $"files[{i}]"), $"files[{i}]")))],
            Commands = [.. map.Items("commands").Select((node, i) => ReadCommand(new Map(AsMapping(node, $"commands[{i}]"), $"commands[{i}]")))],
            Http = [.. map.Items("http").SelectMany((node, i) => ReadHttp(new Map(AsMapping(node, $"http[{i}]"), $"http[{i}]")))],
            Humans = [.. map.Items("humans").Select((node, i) => ReadHuman(new Map(AsMapping(node, $"humans[{i}]"), $"humans[{i}]")))],
            Expect = ReadExpect(new Map(AsMapping(map.Get("expect")!, "expect"), "expect")),
            Lines = map.KeyLines(),
        };
    }

    private static RunbookAlert ReadAlert(Map map)
    {
        map.OnlyKeys("name", "source", "status", "severity", "labels", "annotations", "fingerprint", "starts_at", "ends_at");
        var name = map.RequiredString("name");
        var labels = map.StringMap("labels");
        var status = map.String("status") switch
        {
            null or "firing" => AlertStatus.Firing,
            "resolved" => AlertStatus.Resolved,
            var other => throw map.Error("status", $"'{other}' is not firing or resolved"),
        };
        return new RunbookAlert(
            map.String("source") ?? "generic",
            name,
            status,
            map.String("severity") ?? labels.GetValueOrDefault("severity"),
            labels,
            map.StringMap("annotations"),
            map.Time("starts_at") ?? DateTimeOffset.UnixEpoch,
            map.Time("ends_at"),
            map.String("fingerprint") ?? AlertFingerprint.OfLabels(labels));
    }

    private static CasePayload ReadPayload(Map map)
    {
        map.OnlyKeys("source", "file", "index");
        var source = map.RequiredString("source");
        if (AlertSources.Find(source) is null)
        {
            throw map.Error("source", $"no alert source '{source}'; use one of {string.Join(", ", AlertSources.All.Select(s => s.Name))}");
        }

        var index = map.Int("index") ?? 0;
        if (index < 0)
        {
            throw map.Error("index", "must be 0 or more");
        }

        // The same rule as files: paths: a case from a pull request must not read the host's files through its payload.
        var file = map.RequiredString("file");
        if (!IsInside(file))
        {
            throw map.Error("file", $"'{file}' must be a relative path beside the case, without '..'");
        }

        return new CasePayload(source, file, index, map.Line);
    }

    private static bool IsInside(string path) => !System.IO.Path.IsPathRooted(path) && !path.Split('/', '\\').Contains("..");

    private static CaseFile ReadFile(Map map)
    {
        map.OnlyKeys("path", "content", "age");
        var path = map.RequiredString("path");
        if (!IsInside(path))
        {
            throw map.Error("path", $"'{path}' must be a relative path inside the case's scratch folder");
        }

        TimeSpan? age = null;
        if (map.String("age") is { } text)
        {
            age = Durations.TryParse(text, out var parsed) ? parsed : throw map.Error("age", $"'{text}' is not a duration; {Durations.Hint}");
        }

        return new CaseFile(path, map.String("content") ?? "", age, map.Line);
    }

    private static CommandStub ReadCommand(Map map)
    {
        map.OnlyKeys("run", "match", "exit", "stdout", "stderr");
        var (run, match) = ExactOrPattern(map, "run");
        return new CommandStub(run, match, map.Int("exit") ?? 0, map.String("stdout") ?? "", map.String("stderr") ?? "", map.Line);
    }

    private static List<HttpStub> ReadHttp(Map map)
    {
        map.OnlyKeys("method", "url", "match", "status", "body", "content_type", "responses");
        var (url, match) = ExactOrPattern(map, "url");
        var method = (map.String("method") ?? "GET").ToUpperInvariant();
        var responses = map.Items("responses");
        if (responses.Count == 0)
        {
            return [ReadResponse(map, method, url, match)];
        }

        if (map.Get("status") is not null || map.Get("body") is not null)
        {
            throw map.Error("responses", "give status: and body: inside responses:, or responses: alone");
        }

        return responses.Select((node, i) =>
        {
            var response = new Map(AsMapping(node, $"{map.Path}.responses[{i}]"), $"{map.Path}.responses[{i}]");
            response.OnlyKeys("status", "body", "content_type");
            return ReadResponse(response, method, url, match);
        }).ToList();
    }

    private static HttpStub ReadResponse(Map map, string method, string? url, Regex? match)
    {
        var status = map.Int("status") ?? 200;
        if (status is not 0 and (< 100 or > 599))
        {
            throw map.Error("status", $"{status} is not an HTTP status (100-599, or 0 for no answer)");
        }

        return new HttpStub(method, url, match, status, map.String("body") ?? "", map.String("content_type"), map.Line);
    }

    private static HumanAnswer ReadHuman(Map map)
    {
        map.OnlyKeys("answer", "by", "comment");
        var approved = map.RequiredString("answer") switch
        {
            "approve" or "approved" or "done" or "yes" => true,
            "reject" or "rejected" or "not done" or "no" => false,
            var other => throw map.Error("answer", $"'{other}' is not approve, done or reject"),
        };
        return new HumanAnswer(approved, map.String("by") ?? "test-case", map.String("comment"), map.Line);
    }

    private static CaseExpectation ReadExpect(Map map)
    {
        map.OnlyKeys("matches", "parameters", "steps", "status", "error", "proposal");
        var status = map.String("status");
        if (status is not null)
        {
            status = Enum.TryParse<RunStatus>(status, ignoreCase: true, out var parsed) && !int.TryParse(status, CultureInfo.InvariantCulture, out _)
                ? parsed.ToString()
                : throw map.Error("status", $"'{status}' is not a run status; use one of {string.Join(", ", Enum.GetNames<RunStatus>())}");
        }

        return new CaseExpectation
        {
            Matches = map.Get("matches") is null ? null : [.. map.Items("matches").Select((node, i) => Scalar(node, $"expect.matches[{i}]"))],
            Parameters = map.StringMap("parameters"),
            Steps = map.Get("steps") is null ? null : [.. map.Items("steps").Select((node, i) => ReadStep(node, $"expect.steps[{i}]"))],
            Status = status,
            Error = map.String("error"),
            Proposal = map.String("proposal"),
            Line = map.Line,
            Lines = map.KeyLines(),
        };
    }

    private static ExpectedStep ReadStep(YamlNode node, string path)
    {
        if (node is YamlScalarNode scalar)
        {
            return new ExpectedStep(scalar.Value ?? "", null, Line(node));
        }

        var map = new Map(AsMapping(node, path), path);
        map.OnlyKeys("name", "status");
        var status = map.String("status");
        if (status is not null)
        {
            status = Enum.TryParse<StepStatus>(status, ignoreCase: true, out var parsed) && !int.TryParse(status, CultureInfo.InvariantCulture, out _)
                ? parsed.ToString()
                : throw map.Error("status", $"'{status}' is not a step status; use one of {string.Join(", ", Enum.GetNames<StepStatus>())}");
        }

        return new ExpectedStep(map.RequiredString("name"), status, map.Line);
    }

    private static (string? Exact, Regex? Pattern) ExactOrPattern(Map map, string exactKey)
    {
        var exact = map.String(exactKey);
        var pattern = map.String("match");
        if ((exact is null) == (pattern is null))
        {
            throw new TestCaseException($"{map.Path}: give {exactKey}: (the exact text) or match: (a regular expression), one of them", map.Line);
        }

        if (pattern is null)
        {
            return (exact, null);
        }

        try
        {
            return (null, new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)));
        }
        catch (ArgumentException ex)
        {
            throw map.Error("match", $"not a regular expression: {ex.Message}");
        }
    }

    private static YamlMappingNode AsMapping(YamlNode node, string path) =>
        node as YamlMappingNode ?? throw new TestCaseException($"{path}: expected a mapping (key: value pairs)", Line(node));

    private static string Scalar(YamlNode node, string path) =>
        node is YamlScalarNode { Value: { } value } ? value : throw new TestCaseException($"{path}: expected a single value", Line(node));

    private static int Line(YamlNode node) => (int)node.Start.Line;

    /// <summary>A mapping node with the path that leads to it, for errors.</summary>
    private sealed class Map(YamlMappingNode node, string path)
    {
        public string Path { get; } = path;

        public int Line { get; } = (int)node.Start.Line;

        // `key:` with nothing after it (or ~, or null) is as if it were absent; a quoted "" is a value.
        public YamlNode? Get(string key) =>
            !node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? null
            : value is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any, Value: null or "" or "~" or "null" } ? null
            : value;

        public void OnlyKeys(params string[] keys)
        {
            foreach (var (key, _) in node.Children)
            {
                var name = (key as YamlScalarNode)?.Value;
                if (name is null || !keys.Contains(name, StringComparer.Ordinal))
                {
                    throw new TestCaseException($"{Where(name ?? "?")}: unknown key; {(Path.Length == 0 ? "a case" : Path)} takes {string.Join(", ", keys)}", (int)key.Start.Line);
                }
            }
        }

        public Dictionary<string, int> KeyLines() =>
            node.Children.Where(pair => pair.Key is YamlScalarNode { Value: not null }).ToDictionary(
                pair => ((YamlScalarNode)pair.Key).Value!, pair => (int)pair.Key.Start.Line, StringComparer.Ordinal);

        public string? String(string key) => Get(key) is { } value ? Scalar(value, Where(key)) : null;

        public string RequiredString(string key) =>
            String(key) is { Length: > 0 } value ? value : throw new TestCaseException($"{Where(key)}: required", Line);

        public int? Int(string key) =>
            String(key) is not { } text ? null
            : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value
            : throw Error(key, $"'{text}' is not a whole number");

        public DateTimeOffset? Time(string key) =>
            String(key) is not { } text ? null
            : DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value) ? value
            : throw Error(key, $"'{text}' is not a time such as 2026-11-24T01:00:00Z");

        public Dictionary<string, string> StringMap(string key)
        {
            if (Get(key) is not { } value)
            {
                return new Dictionary<string, string>(StringComparer.Ordinal);
            }

            var map = AsMapping(value, Where(key));
            return map.Children.ToDictionary(
                pair => Scalar(pair.Key, Where(key)),
                pair => Scalar(pair.Value, $"{Where(key)}.{(pair.Key as YamlScalarNode)?.Value}"),
                StringComparer.Ordinal);
        }

        public IReadOnlyList<YamlNode> Items(string key) => Get(key) switch
        {
            null => [],
            YamlSequenceNode sequence => [.. sequence.Children],
            var other => throw new TestCaseException($"{Where(key)}: expected a list", (int)other.Start.Line),
        };

        public TestCaseException Error(string key, string message) =>
            new($"{Where(key)}: {message}", Get(key) is { } value ? (int)value.Start.Line : Line);

        private string Where(string key) => Path.Length == 0 ? key : $"{Path}.{key}";
    }
}

/// <summary>A case file that cannot be used, with the line to fix.</summary>
public sealed class TestCaseException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong, naming the key.</param>
    /// <param name="line">The line, 1-based.</param>
    public TestCaseException(string message, int line)
        : base(message)
    {
        Line = Math.Max(1, line);
    }

    /// <summary>Creates the exception.</summary>
    public TestCaseException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public TestCaseException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public TestCaseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The line to fix, 1-based.</summary>
    public int Line { get; } = 1;
}
