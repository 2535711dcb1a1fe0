using System.Globalization;
using System.Text.RegularExpressions;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace RunbookEngine.Scripting.FrontMatter;

/// <summary>
/// Reads the YAML block in a runbook's leading comment (between <c>// ---</c> lines) without compiling or running the script,
/// and validates it key by key. Unknown keys are errors: a misspelt <c>timout:</c> must not silently mean "no timeout".
/// </summary>
public static partial class FrontMatterParser
{
    private const string Fence = "---";

    private static readonly string[] TopLevelKeys =
        ["description", "owner", "tags", "alerts", "schedule", "parameters", "manual_minutes", "concurrency", "on_conflict", "timeout", "retries", "retry_backoff", "cooldown", "cancel_on_resolve", "isolation", "mode", "confirm", "drill", "review_by", "gameday", "notify", "budget_gate"];

    private static readonly string[] ConfirmKeys = ["role", "different_person", "timeout", "manual_minutes"];
    private static readonly string[] BudgetGateKeys = ["slo", "below", "then", "timeout"];
    private static readonly string[] DrillKeys = ["schedule", "case", "alert"];
    private static readonly string[] GameDayKeys = ["inject", "verify", "restore", "timeout"];

    private static readonly string[] AlertKeys = ["name", "source", "labels"];
    private static readonly string[] ParameterKeys = ["type", "required", "default", "from", "description", "secret", "values"];
    private static readonly string[] AlertFields = ["name", "source", "severity", "fingerprint", "status"];

    /// <summary>Parses the front matter of a runbook's source text.</summary>
    /// <param name="file">The file, for messages.</param>
    /// <param name="source">The whole script.</param>
    /// <returns>The definition, or the errors that prevent one.</returns>
    public static FrontMatterResult Parse(string file, string source)
    {
        var errors = new List<RunbookDiagnostic>();
        var lines = source.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var first = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (first < 0 || StripComment(lines[first])?.Trim() != Fence)
        {
            errors.Add(RunbookDiagnostic.Error(file, first < 0 ? 1 : first + 1, "RB100",
                "no front matter: a runbook starts with a comment block between `// ---` lines, e.g. `// description: ...`"));
            return new FrontMatterResult(null, errors);
        }

        var yaml = new List<string>();
        var closed = false;
        for (var i = first + 1; i < lines.Length; i++)
        {
            var text = StripComment(lines[i]);
            if (text is null)
            {
                break;
            }

            if (text.Trim() == Fence)
            {
                closed = true;
                break;
            }

            yaml.Add(text);
        }

        if (!closed)
        {
            errors.Add(RunbookDiagnostic.Error(file, first + 1, "RB101", "the front matter is not closed: end it with a `// ---` line"));
            return new FrontMatterResult(null, errors);
        }

        var reader = new Reader(file, first + 1, errors);
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(string.Join('\n', yaml)));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                errors.Add(RunbookDiagnostic.Error(file, first + 2, "RB102", "the front matter must be a list of `key: value` lines"));
                return new FrontMatterResult(null, errors);
            }

            root = mapping;
        }
        catch (YamlException ex)
        {
            var line = first + 1 + (int)Math.Max(ex.Start.Line, 1);
            errors.Add(RunbookDiagnostic.Error(file, line, "RB103", $"the front matter is not valid YAML: {FirstSentence(ex.Message)}"));
            return new FrontMatterResult(null, errors);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner throws this, without a position, when a flow { or [ runs to the end of the block.
            errors.Add(RunbookDiagnostic.Error(file, first + 1, "RB103", "the front matter is not valid YAML: a { or [ is not closed"));
            return new FrontMatterResult(null, errors);
        }

        var definition = reader.ReadDefinition(root);
        return new FrontMatterResult(errors.Count == 0 ? definition : null, errors);
    }

    /// <summary>The first line of the block that is no comment ends the front matter; null signals that.</summary>
    private static string? StripComment(string line)
    {
        var trimmed = line.TrimStart();
        if (!trimmed.StartsWith("//", StringComparison.Ordinal))
        {
            return null;
        }

        var text = trimmed[2..];
        return text.StartsWith(' ') ? text[1..] : text;
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf("):", StringComparison.Ordinal);
        return (cut > 0 ? message[(cut + 2)..] : message).Trim();
    }

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();

    [GeneratedRegex(@"\{\{\s*(?<ref>[^}]*?)\s*\}\}")]
    private static partial Regex TemplatePattern();

    /// <summary>Reads nodes into the definition, collecting one error per problem (not only the first).</summary>
    private sealed class Reader(string file, int fenceLine, List<RunbookDiagnostic> errors)
    {
        public RunbookDefinition? ReadDefinition(YamlMappingNode root)
        {
            string? description = null;
            var definition = new RunbookDefinition { Description = "" };
            foreach (var (keyNode, value) in root.Children)
            {
                var key = KeyOf(keyNode);
                switch (key)
                {
                    case "description":
                        description = String(key, value);
                        break;
                    case "owner":
                        definition = definition with { Owner = String(key, value) };
                        break;
                    case "tags":
                        definition = definition with { Tags = StringList(key, value) };
                        break;
                    case "alerts":
                        definition = definition with { Alerts = AlertRules(value) };
                        break;
                    case "schedule":
                        definition = definition with { Schedule = Schedule(key, value) };
                        break;
                    case "parameters":
                        definition = definition with { Parameters = ParameterList(value) };
                        break;
                    case "manual_minutes":
                        definition = definition with { ManualMinutes = NonNegativeNumber(key, value) };
                        break;
                    case "concurrency":
                        definition = definition with { Concurrency = String(key, value) };
                        break;
                    case "on_conflict":
                        definition = definition with { OnConflict = Conflict(key, value) };
                        break;
                    case "timeout":
                        definition = definition with { Timeout = PositiveDuration(key, value) ?? RunbookDefinition.DefaultTimeout };
                        break;
                    case "retries":
                        definition = definition with { Retries = (int)(WholeNumber(key, value, 0, 100) ?? 0) };
                        break;
                    case "retry_backoff":
                        definition = definition with { RetryBackoff = PositiveDuration(key, value) ?? RunbookDefinition.DefaultRetryBackoff };
                        break;
                    case "cooldown":
                        definition = definition with { Cooldown = PositiveDuration(key, value) };
                        break;
                    case "cancel_on_resolve":
                        definition = definition with { CancelOnResolve = Bool(key, value) ?? false };
                        break;
                    case "isolation":
                        definition = definition with { Isolation = IsolationOf(key, value) };
                        break;
                    case "mode":
                        definition = definition with { Mode = ModeOf(key, value) };
                        break;
                    case "confirm":
                        definition = definition with { Confirm = ConfirmOf(key, value) };
                        break;
                    case "drill":
                        definition = definition with { Drill = DrillOf(key, value) };
                        break;
                    case "review_by":
                        definition = definition with { ReviewBy = DateOf(key, value) };
                        break;
                    case "gameday":
                        definition = definition with { GameDay = GameDayOf(key, value) };
                        break;
                    case "notify":
                        definition = definition with { Notify = NotifyOf(key, value) };
                        break;
                    case "budget_gate":
                        definition = definition with { BudgetGate = BudgetGateOf(key, value) };
                        break;
                    default:
                        Unknown(key, keyNode, TopLevelKeys);
                        break;
                }
            }

            if (string.IsNullOrWhiteSpace(description))
            {
                Error(root.Children.TryGetValue(new YamlScalarNode("description"), out var given) ? given : root, "description",
                    description is null ? "is missing: say in one line what the runbook fixes" : "is empty: say in one line what the runbook fixes");
            }

            CheckConcurrency(root, definition);
            return definition with { Description = description ?? "" };
        }

        private void CheckConcurrency(YamlMappingNode root, RunbookDefinition definition)
        {
            if (definition.Concurrency is not { } template)
            {
                return;
            }

            var node = root.Children[new YamlScalarNode("concurrency")];
            foreach (Match match in TemplatePattern().Matches(template))
            {
                var reference = match.Groups["ref"].Value;
                var dot = reference.IndexOf('.', StringComparison.Ordinal);
                var head = dot < 0 ? reference : reference[..dot];
                var tail = dot < 0 ? "" : reference[(dot + 1)..];
                var ok = head switch
                {
                    "labels" or "annotations" => tail.Length > 0,
                    "params" => definition.Parameter(tail) is not null,
                    "alert" => AlertFields.Contains(tail),
                    _ => false,
                };
                if (!ok)
                {
                    Error(node, "concurrency", $"'{{{{ {reference} }}}}' names nothing; use labels.NAME, annotations.NAME, params.NAME (a declared parameter) or alert.name");
                }
            }
        }

        private List<AlertRule> AlertRules(YamlNode value)
        {
            var rules = new List<AlertRule>();
            if (value is not YamlSequenceNode sequence)
            {
                Error(value, "alerts", "must be a list of rules, each `- name: AlertName` with optional `source:` and `labels:`");
                return rules;
            }

            for (var i = 0; i < sequence.Children.Count; i++)
            {
                var field = $"alerts[{i}]";
                if (sequence.Children[i] is not YamlMappingNode item)
                {
                    Error(sequence.Children[i], field, "must be a rule such as `name: NodeFilesystemAlmostFull`");
                    continue;
                }

                string? name = null, source = null;
                var labels = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (keyNode, child) in item.Children)
                {
                    var key = KeyOf(keyNode);
                    switch (key)
                    {
                        case "name":
                            name = String($"{field}.name", child);
                            break;
                        case "source":
                            source = String($"{field}.source", child);
                            break;
                        case "labels":
                            labels = Matchers($"{field}.labels", child);
                            break;
                        default:
                            Unknown($"{field}.{key}", keyNode, AlertKeys);
                            break;
                    }
                }

                if (name is null && labels.Count == 0)
                {
                    Error(item, field, "matches every alert; give it a `name:` or `labels:`");
                }

                rules.Add(new AlertRule(name, source, labels, Line(item)));
            }

            return rules;
        }

        private Dictionary<string, string> Matchers(string field, YamlNode value)
        {
            var matchers = new Dictionary<string, string>(StringComparer.Ordinal);
            if (value is not YamlMappingNode mapping)
            {
                Error(value, field, "must map label names to regular expressions, e.g. `{ severity: \"critical|warning\" }`");
                return matchers;
            }

            foreach (var (keyNode, child) in mapping.Children)
            {
                var label = KeyOf(keyNode);
                var pattern = String($"{field}.{label}", child);
                if (pattern is null)
                {
                    continue;
                }

                try
                {
                    _ = new Regex($"^(?:{pattern})$", RegexOptions.None, TimeSpan.FromSeconds(1));
                    matchers[label] = pattern;
                }
                catch (ArgumentException ex)
                {
                    Error(child, $"{field}.{label}", $"'{pattern}' is not a regular expression: {ex.Message}");
                }
            }

            return matchers;
        }

        private List<ParameterDefinition> ParameterList(YamlNode value)
        {
            var parameters = new List<ParameterDefinition>();
            if (value is not YamlMappingNode mapping)
            {
                Error(value, "parameters", "must map each parameter name to its settings, e.g. `path: { type: string, default: /var/log }`");
                return parameters;
            }

            foreach (var (keyNode, child) in mapping.Children)
            {
                var name = KeyOf(keyNode);
                var field = $"parameters.{name}";
                if (!IdentifierPattern().IsMatch(name))
                {
                    Error(keyNode, field, "a parameter name is letters, digits and _, starting with a letter");
                    continue;
                }

                if (child is YamlScalarNode { Value: var shorthand } && shorthand is not null)
                {
                    // `name: int` is short for `name: { type: int }`.
                    if (TryType(shorthand, out var shortType))
                    {
                        parameters.Add(new ParameterDefinition(name, shortType, false, null, null, null, false, null));
                    }
                    else
                    {
                        Error(child, field, $"'{shorthand}' is not a type; use string, int, number, bool or duration, or a mapping such as `{{ type: string, required: true }}`");
                    }

                    continue;
                }

                if (child is not YamlMappingNode settings)
                {
                    Error(child, field, "must be a type name or a mapping such as `{ type: string, required: true }`");
                    continue;
                }

                parameters.Add(ReadParameter(name, field, settings));
            }

            return parameters;
        }

        private ParameterDefinition ReadParameter(string name, string field, YamlMappingNode settings)
        {
            var type = ParameterType.String;
            var required = false;
            var secret = false;
            string? from = null, description = null;
            YamlNode? defaultNode = null;
            List<string>? values = null;
            foreach (var (keyNode, node) in settings.Children)
            {
                var key = KeyOf(keyNode);
                switch (key)
                {
                    case "type":
                        var typeName = String($"{field}.type", node);
                        if (typeName is not null && !TryType(typeName, out type))
                        {
                            Error(node, $"{field}.type", $"'{typeName}' is not a type; use string, int, number, bool or duration");
                        }

                        break;
                    case "required":
                        required = Bool($"{field}.required", node) ?? false;
                        break;
                    case "secret":
                        secret = Bool($"{field}.secret", node) ?? false;
                        break;
                    case "default":
                        defaultNode = node;
                        break;
                    case "from":
                        from = String($"{field}.from", node);
                        if (from is not null && !IsAlertReference(from))
                        {
                            Error(node, $"{field}.from", $"'{from}' is not an alert field; use labels.NAME, annotations.NAME or alert.name|source|severity|fingerprint|status");
                        }

                        break;
                    case "description":
                        description = String($"{field}.description", node);
                        break;
                    case "values":
                        values = StringList($"{field}.values", node);
                        break;
                    default:
                        Unknown($"{field}.{key}", keyNode, ParameterKeys);
                        break;
                }
            }

            object? defaultValue = null;
            if (defaultNode is not null && String($"{field}.default", defaultNode) is { } text)
            {
                if (!ParameterValue.TryConvert(type, text, out defaultValue, out var error))
                {
                    Error(defaultNode, $"{field}.default", error!);
                }
                else if (values is not null && !values.Contains(text))
                {
                    Error(defaultNode, $"{field}.default", $"'{text}' is not one of its values: {string.Join(", ", values)}");
                }
            }

            return new ParameterDefinition(name, type, required, defaultValue, from, description, secret, values);
        }

        private string KeyOf(YamlNode keyNode)
        {
            if (keyNode is YamlScalarNode { Value: { } key })
            {
                return key;
            }

            Error(keyNode, "(key)", "a key must be a plain name, not a list or mapping");
            return "";
        }

        private static bool IsAlertReference(string reference)
        {
            var dot = reference.IndexOf('.', StringComparison.Ordinal);
            if (dot <= 0 || dot == reference.Length - 1)
            {
                return false;
            }

            var head = reference[..dot];
            return head is "labels" or "annotations" || (head == "alert" && AlertFields.Contains(reference[(dot + 1)..]));
        }

        private static bool TryType(string text, out ParameterType type) =>
            Enum.TryParse(text, ignoreCase: true, out type) && Enum.IsDefined(type) && !int.TryParse(text, CultureInfo.InvariantCulture, out _);

        private CronSchedule? Schedule(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (CronSchedule.TryParse(text, out var schedule, out var error))
            {
                // Cronos searches up to the year 9999, so nothing after 1970 means a date no month has, such as Feb 30.
                if (schedule!.NextOccurrence(DateTimeOffset.UnixEpoch) is null)
                {
                    Error(value, field, $"'{text}' never fires (no such date)");
                    return null;
                }

                return schedule;
            }

            Error(value, field, error!);
            return null;
        }

        private ConflictPolicy Conflict(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return ConflictPolicy.Queue;
            }

            if (Enum.TryParse<ConflictPolicy>(text, ignoreCase: true, out var policy) && Enum.IsDefined(policy) && !int.TryParse(text, CultureInfo.InvariantCulture, out _))
            {
                return policy;
            }

            Error(value, field, $"'{text}' is not a policy; use queue (wait in order) or refuse (do not start)");
            return ConflictPolicy.Queue;
        }

        private Isolation IsolationOf(string field, YamlNode value)
        {
            var text = String(field, value);
            switch (text?.ToLowerInvariant())
            {
                case null:
                    return Isolation.InProcess;
                case "process":
                    return Isolation.Process;
                case "in-process":
                    return Isolation.InProcess;
                default:
                    Error(value, field, $"'{text}' is not an isolation; use process (a process of its own, killed at the timeout) or in-process (the default)");
                    return Isolation.InProcess;
            }
        }

        private RunMode ModeOf(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return RunMode.Auto;
            }

            if (Enum.TryParse<RunMode>(text, ignoreCase: true, out var mode) && Enum.IsDefined(mode) && !int.TryParse(text, CultureInfo.InvariantCulture, out _))
            {
                return mode;
            }

            Error(value, field, $"'{text}' is not a mode; use shadow (run what only reads, propose the rest), confirm (ask a person before the first side effect) or auto (the default)");
            return RunMode.Auto;
        }

        private ConfirmSettings ConfirmOf(string field, YamlNode value)
        {
            var confirm = new ConfirmSettings();
            if (value is not YamlMappingNode map)
            {
                Error(value, field, "must be a mapping such as `{ role: oncall, different_person: true, timeout: 30m }`");
                return confirm;
            }

            foreach (var (keyNode, item) in map.Children)
            {
                var key = KeyOf(keyNode);
                var name = $"{field}.{key}";
                switch (key)
                {
                    case "role":
                        confirm = confirm with { Role = String(name, item) is { Length: > 0 } role ? role : null };
                        break;
                    case "different_person":
                        confirm = confirm with { DifferentPerson = Bool(name, item) ?? false };
                        break;
                    case "timeout":
                        confirm = confirm with { Timeout = PositiveDuration(name, item) };
                        break;
                    case "manual_minutes":
                        confirm = confirm with { ManualMinutes = NonNegativeNumber(name, item) };
                        break;
                    default:
                        Unknown(name, keyNode, ConfirmKeys);
                        break;
                }
            }

            return confirm;
        }

        private BudgetGate? BudgetGateOf(string field, YamlNode value)
        {
            const string Example = "`{ slo: checkout-availability, below: 10%, then: confirm }`";
            if (value is not YamlMappingNode map)
            {
                Error(value, field, $"must be a mapping such as {Example}");
                return null;
            }

            string? slo = null;
            double? below = null;
            var then = RunMode.Confirm;
            var timeout = BudgetGate.DefaultTimeout;
            var broken = false;
            foreach (var (keyNode, item) in map.Children)
            {
                var key = KeyOf(keyNode);
                var name = $"{field}.{key}";
                switch (key)
                {
                    case "slo":
                        slo = String(name, item) is { } given && !string.IsNullOrWhiteSpace(given) ? given.Trim() : null;
                        if (slo is null)
                        {
                            // An empty name would drop the gate without a word, and the runbook would act on its own.
                            Error(item, name, "must name an SLO configured under RunbookEngine:Slos, e.g. checkout-availability");
                            broken = true;
                        }

                        break;
                    case "below":
                        below = GatePercent(name, item);
                        break;
                    case "timeout":
                        timeout = PositiveDuration(name, item) ?? BudgetGate.DefaultTimeout;
                        break;
                    case "then":
                        var text = String(name, item);
                        if (string.Equals(text, "confirm", StringComparison.OrdinalIgnoreCase))
                        {
                            then = RunMode.Confirm;
                        }
                        else if (string.Equals(text, "shadow", StringComparison.OrdinalIgnoreCase))
                        {
                            then = RunMode.Shadow;
                        }
                        else if (text is not null)
                        {
                            Error(item, name, $"'{text}' is not what a gate can do; use confirm (ask a person before the first side effect) or shadow (only propose)");
                        }

                        break;
                    default:
                        Unknown(name, keyNode, BudgetGateKeys);
                        break;
                }
            }

            if (!broken && (!map.Children.ContainsKey(new YamlScalarNode("slo")) || !map.Children.ContainsKey(new YamlScalarNode("below"))))
            {
                Error(value, field, $"needs `slo:` (an SLO configured under RunbookEngine:Slos) and `below:` (a percentage of its error budget), e.g. {Example}");
            }

            return slo is null || below is null ? null : new BudgetGate(slo, below.Value, then) { Timeout = timeout };
        }

        // The `%` is required: `below: 0.1` could mean 10% written as a ratio, and read as 0.1% it would never gate.
        private double? GatePercent(string field, YamlNode value)
        {
            if (value is YamlScalarNode { Value: { } raw } && !raw.Trim().EndsWith('%')
                && double.TryParse(raw.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            {
                Error(value, field, $"'{raw.Trim()}' needs its % sign, such as 10%: a percentage of the error budget, not a ratio");
                return null;
            }

            return Percent(field, value);
        }

        private double? Percent(string field, YamlNode value)
        {
            var text = String(field, value)?.Trim();
            if (text is null)
            {
                return null;
            }

            var number = text.EndsWith('%') ? text[..^1].TrimEnd() : text;
            if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var percent) && percent > 0 && percent <= 100)
            {
                return percent;
            }

            Error(value, field, $"'{text}' is not a percentage of the error budget; use a number above 0 and at most 100, such as 10%");
            return null;
        }

        private DrillDefinition? DrillOf(string field, YamlNode value)
        {
            if (value is not YamlMappingNode map)
            {
                Error(value, field, "must be a mapping such as `{ schedule: \"0 6 * * 1\", case: service-down }`");
                return null;
            }

            CronSchedule? schedule = null;
            string? testCase = null;
            string? alert = null;
            foreach (var (keyNode, item) in map.Children)
            {
                var key = KeyOf(keyNode);
                var name = $"{field}.{key}";
                switch (key)
                {
                    case "schedule":
                        schedule = Schedule(name, item);
                        break;
                    case "case":
                        testCase = String(name, item);
                        if (testCase is not null && !IsCaseName(testCase))
                        {
                            Error(item, name, $"'{testCase}' is not a test case name: use letters, digits, '-', '_' and '.' (the file tests/RUNBOOK/{testCase}.yaml)");
                            testCase = null;
                        }

                        break;
                    case "alert":
                        alert = String(name, item) is { Length: > 0 } id ? id : null;
                        break;
                    default:
                        Unknown(name, keyNode, DrillKeys);
                        break;
                }
            }

            if (!map.Children.ContainsKey(new YamlScalarNode("schedule")))
            {
                Error(value, field, "needs a `schedule:` (a cron expression) saying when the drill runs");
            }

            if (map.Children.ContainsKey(new YamlScalarNode("case")) == map.Children.ContainsKey(new YamlScalarNode("alert")))
            {
                Error(value, field, "needs exactly one of `case:` (a test case beside the runbook) or `alert:` (a recorded alert's id) to drill against");
            }

            return schedule is null || (testCase is null && alert is null) ? null : new DrillDefinition(schedule, testCase, alert);
        }

        private Dictionary<string, IReadOnlyList<string>> NotifyOf(string field, YamlNode value)
        {
            var routes = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal);
            if (value is not YamlMappingNode map)
            {
                Error(value, field, "must be a mapping of events to channels such as `{ failed: [oncall], succeeded: [audit] }`");
                return routes;
            }

            foreach (var (keyNode, item) in map.Children)
            {
                var key = KeyOf(keyNode);
                var name = $"{field}.{key}";
                if (!NotifyEvents.OfRunbooks.Contains(key))
                {
                    Error(keyNode, name, $"'{key}' is not an event that notifies; events: {string.Join(", ", NotifyEvents.OfRunbooks)}{(NotifyEvents.All.Contains(key) ? " (incident events are routed by RunbookEngine:Notifications:Defaults, not by a runbook)" : "")}");
                    continue;
                }

                // A single channel reads naturally as a scalar; an empty list silences an event the defaults route.
                var channels = item is YamlScalarNode { Value: { Length: > 0 } one } ? [one] : StringList(name, item);
                foreach (var channel in channels)
                {
                    if (!IsCaseName(channel))
                    {
                        Error(item, name, $"'{channel}' is not a channel name: use letters, digits, '-', '_' and '.' (a name under RunbookEngine:Notifications:Channels)");
                    }
                }

                routes[key] = [.. channels.Distinct(StringComparer.Ordinal)];
            }

            return routes;
        }

        private static bool IsCaseName(string name) =>
            name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') && !name.StartsWith('.');

        private DateOnly? DateOf(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            {
                return date;
            }

            Error(value, field, $"'{text}' is not a date; write it as YYYY-MM-DD, e.g. 2027-03-01");
            return null;
        }

        private GameDayDefinition? GameDayOf(string field, YamlNode value)
        {
            if (value is not YamlMappingNode map)
            {
                Error(value, field, "must be a mapping with `inject:`, `verify:` and optionally `restore:` and `timeout:`");
                return null;
            }

            string? inject = null, verify = null, restore = null;
            TimeSpan? timeout = null;
            foreach (var (keyNode, item) in map.Children)
            {
                var key = KeyOf(keyNode);
                var name = $"{field}.{key}";
                switch (key)
                {
                    case "inject":
                        inject = Command(name, item);
                        break;
                    case "verify":
                        verify = Command(name, item);
                        break;
                    case "restore":
                        restore = Command(name, item);
                        break;
                    case "timeout":
                        timeout = PositiveDuration(name, item);
                        break;
                    default:
                        Unknown(name, keyNode, GameDayKeys);
                        break;
                }
            }

            foreach (var (needed, given) in new[] { ("inject", inject), ("verify", verify) })
            {
                if (given is null && !map.Children.ContainsKey(new YamlScalarNode(needed)))
                {
                    Error(value, field, needed == "inject"
                        ? "needs `inject:`, the command that breaks what the runbook fixes"
                        : "needs `verify:`, a command that exits 0 once the fault is gone");
                }
            }

            return inject is null || verify is null ? null : new GameDayDefinition(inject, verify, restore, timeout ?? GameDayDefinition.DefaultTimeout);
        }

        private string? Command(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                Error(value, field, "is empty: give the command to run");
                return null;
            }

            try
            {
                _ = ShellCommand.Parse(text).ToArgv();
                return text;
            }
            catch (ArgumentException ex)
            {
                Error(value, field, $"'{text}' is not a command line: {ex.Message}");
                return null;
            }
        }

        private TimeSpan? PositiveDuration(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (Durations.TryParse(text, out var duration) && duration > TimeSpan.Zero)
            {
                if (duration <= Durations.MaxTimeout)
                {
                    return duration;
                }

                Error(value, field, $"'{text}' is longer than {Durations.Format(Durations.MaxTimeout)}, the longest this setting can be");
                return null;
            }

            Error(value, field, $"'{text}' is not a duration; {Durations.Hint}");
            return null;
        }

        private double? NonNegativeNumber(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && number >= 0)
            {
                return number;
            }

            Error(value, field, $"'{text}' is not a number of minutes (0 or more)");
            return null;
        }

        private long? WholeNumber(string field, YamlNode value, long min, long max)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= min && number <= max)
            {
                return number;
            }

            Error(value, field, $"'{text}' is not a whole number from {min} to {max}");
            return null;
        }

        private bool? Bool(string field, YamlNode value)
        {
            var text = String(field, value);
            if (text is null)
            {
                return null;
            }

            if (bool.TryParse(text, out var flag))
            {
                return flag;
            }

            Error(value, field, $"'{text}' is not true or false");
            return null;
        }

        private List<string> StringList(string field, YamlNode value)
        {
            if (value is YamlSequenceNode sequence)
            {
                return [.. sequence.Children.Select((item, i) => String($"{field}[{i}]", item)).OfType<string>()];
            }

            Error(value, field, "must be a list, e.g. `[a, b]`");
            return [];
        }

        private string? String(string field, YamlNode value)
        {
            if (value is YamlScalarNode scalar)
            {
                return scalar.Value ?? "";
            }

            Error(value, field, "must be a single value, not a list or mapping");
            return null;
        }

        private void Unknown(string field, YamlNode keyNode, string[] known)
        {
            var key = field.Split('.')[^1];
            if (key.Length == 0)
            {
                return;
            }

            var suggestion = known.OrderBy(k => Distance(k, key)).First();
            var hint = Distance(suggestion, key) <= 2 ? $"did you mean `{suggestion}`? " : "";
            Error(keyNode, field, $"is not a front matter key; {hint}known keys: {string.Join(", ", known)}");
        }

        private void Error(YamlNode node, string field, string message) =>
            errors.Add(RunbookDiagnostic.Error(file, Line(node), "RB110", $"`{field}`: {message}"));

        private int Line(YamlNode node) => fenceLine + (int)Math.Max(node.Start.Line, 1);

        private static int Distance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++)
            {
                d[i, 0] = i;
            }

            for (var j = 0; j <= b.Length; j++)
            {
                d[0, j] = j;
            }

            for (var i = 1; i <= a.Length; i++)
            {
                for (var j = 1; j <= b.Length; j++)
                {
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
                }
            }

            return d[a.Length, b.Length];
        }
    }
}

/// <summary>The outcome of reading front matter.</summary>
/// <param name="Definition">The definition, or null when there are errors.</param>
/// <param name="Errors">Every problem found.</param>
public sealed record FrontMatterResult(RunbookDefinition? Definition, IReadOnlyList<RunbookDiagnostic> Errors);
