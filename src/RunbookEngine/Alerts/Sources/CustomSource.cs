using System.Text.Json;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// A payload shape described in configuration (<see cref="CustomSourceOptions"/>): JSON Pointers say where each alert field is.
/// Its <see cref="Name"/> is <c>custom/NAME</c>, so a runbook rule for it says <c>source: custom/NAME</c> and can never
/// be confused with a built-in source of the same name.
/// </summary>
internal sealed class CustomSource : IAlertSource
{
    /// <summary>What every custom source's name starts with, and the path segment after <c>/hooks/</c>.</summary>
    public const string Prefix = "custom/";

    private const string Alerts = "alerts";

    // Every key the field map takes besides label.NAME and annotation.NAME; the example is for the start-up error.
    private static readonly Dictionary<string, string> Keys = new(StringComparer.OrdinalIgnoreCase)
    {
        ["name"] = "/alert/title",
        ["status"] = "/alert/state",
        ["severity"] = "/alert/priority",
        ["fingerprint"] = "/alert/key",
        ["startsAt"] = "/alert/started",
        ["endsAt"] = "/alert/ended",
        ["labels"] = "/alert/tags",
        ["annotations"] = "/alert/details",
        ["id"] = "/event_id",
        [Alerts] = "/alerts",
    };

    private const string LabelPrefix = "label.";
    private const string AnnotationPrefix = "annotation.";

    private readonly string _setting;
    private readonly Dictionary<string, JsonPointer> _fields = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Name, JsonPointer Pointer)> _labels = [];
    private readonly List<(string Name, JsonPointer Pointer)> _annotations = [];
    private readonly HashSet<string> _firing;
    private readonly HashSet<string> _resolved;

    private CustomSource(string name, CustomSourceOptions options)
    {
        Name = Prefix + name;
        Options = options;
        _setting = Setting(name);
        foreach (var (key, text) in options.Fields)
        {
            if (!JsonPointer.TryParse(text, out var pointer))
            {
                throw new InvalidOperationException(string.Join("; ", Problems(name, options)));
            }

            if (key.StartsWith(LabelPrefix, StringComparison.OrdinalIgnoreCase))
            {
                _labels.Add((key[LabelPrefix.Length..], pointer!));
            }
            else if (key.StartsWith(AnnotationPrefix, StringComparison.OrdinalIgnoreCase))
            {
                _annotations.Add((key[AnnotationPrefix.Length..], pointer!));
            }
            else
            {
                _fields[key] = pointer!;
            }
        }

        _firing = Values(options.FiringValues);
        _resolved = Values(options.ResolvedValues);
    }

    public string Name { get; }

    /// <summary>The source's credentials and field map.</summary>
    public CustomSourceOptions Options { get; }

    /// <summary>The configuration section of a custom source, which every error message names.</summary>
    public static string Setting(string name) => $"{RunbookEngineOptions.Section}:Alerts:Custom:{name}";

    /// <summary>A custom source for valid settings; call <see cref="Problems"/> first (options validation does, at start).</summary>
    public static CustomSource Create(string name, CustomSourceOptions options) =>
        Problems(name, options) is { Count: > 0 } problems ? throw new InvalidOperationException(string.Join("; ", problems)) : new CustomSource(name, options);

    /// <summary>What is wrong with a custom source's settings, each naming the setting; empty when nothing is.</summary>
    public static IReadOnlyList<string> Problems(string name, CustomSourceOptions options)
    {
        var problems = new List<string>();
        var section = Setting(name);
        if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            problems.Add($"{section}: a custom source's name takes letters, digits, - and _ (it is part of the URL /hooks/custom/NAME)");
        }

        if (!options.Fields.TryGetValue("name", out var namePointer) || !JsonPointer.TryParse(namePointer, out _))
        {
            problems.Add($"{section}:Fields:name must be a JSON Pointer such as /alert/title");
        }

        foreach (var (key, text) in options.Fields)
        {
            var isLabel = key.StartsWith(LabelPrefix, StringComparison.OrdinalIgnoreCase);
            var isAnnotation = key.StartsWith(AnnotationPrefix, StringComparison.OrdinalIgnoreCase);
            if (!isLabel && !isAnnotation && !Keys.ContainsKey(key))
            {
                problems.Add($"{section}:Fields:{key} is not an alert field; use {string.Join(", ", Keys.Keys)}, label.NAME or annotation.NAME");
            }
            else if ((isLabel && key.Length == LabelPrefix.Length) || (isAnnotation && key.Length == AnnotationPrefix.Length))
            {
                problems.Add($"{section}:Fields:{key} needs a name after the dot, e.g. {(isLabel ? "label.team" : "annotation.summary")}");
            }
            else if (!string.Equals(key, "name", StringComparison.OrdinalIgnoreCase) && !JsonPointer.TryParse(text, out _))
            {
                var example = isLabel ? "/alert/team" : isAnnotation ? "/alert/description" : Keys[key];
                problems.Add($"{section}:Fields:{key} must be a JSON Pointer such as {example}");
            }
        }

        if (options.SignatureEncoding is not ("hex" or "base64"))
        {
            problems.Add($"{section}:SignatureEncoding is '{options.SignatureEncoding}'; use hex or base64");
        }

        if (options.HmacSecrets.Count > 0 && string.IsNullOrWhiteSpace(options.SignatureHeader))
        {
            problems.Add($"{section}:SignatureHeader names the header that carries the signature; it cannot be empty when a Secret is set");
        }

        var firing = Values(options.FiringValues);
        var resolved = Values(options.ResolvedValues);
        if (firing.Count == 0 || resolved.Count == 0)
        {
            problems.Add($"{section}: FiringValues and ResolvedValues each need at least one value (comma-separated)");
        }
        else if (firing.Overlaps(resolved))
        {
            problems.Add($"{section}: FiringValues and ResolvedValues share {string.Join(", ", firing.Intersect(resolved, StringComparer.OrdinalIgnoreCase))}");
        }

        return problems;
    }

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt) =>
        WebhookJson.Parse(request, (root, raw) => Read(root.Element, raw, receivedAt));

    private WebhookAccepted Read(JsonElement root, string raw, DateTimeOffset receivedAt)
    {
        if (!_fields.TryGetValue(Alerts, out var alertsPointer))
        {
            return new WebhookAccepted([ReadAlert(root, "", raw, receivedAt)], null);
        }

        var list = alertsPointer.Resolve(root) ?? throw Missing(Alerts, alertsPointer.Text);
        if (list.ValueKind != JsonValueKind.Array)
        {
            throw Wrong(Alerts, alertsPointer.Text, "an array", list);
        }

        var alerts = new List<ParsedAlert>(list.GetArrayLength());
        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            alerts.Add(ReadAlert(item, $"{alertsPointer.Text}/{index++}", raw, receivedAt));
        }

        return new WebhookAccepted(alerts, alerts.Count == 0 ? $"no alerts at {Where(alertsPointer.Text)}" : null);
    }

    private ParsedAlert ReadAlert(JsonElement item, string at, string raw, DateTimeOffset receivedAt)
    {
        var name = Scalar(item, at, "name") ?? throw Missing("name", at + _fields["name"].Text);
        if (name.Length == 0)
        {
            throw new PayloadException($"name: empty at {Where(at + _fields["name"].Text)} ({_setting}:Fields:name)");
        }

        var status = Status(item, at);
        var labelMap = Map(item, at, "labels", _labels);
        var annotationMap = Map(item, at, "annotations", _annotations);
        var fingerprint = NonEmpty(Scalar(item, at, "fingerprint")) ?? AlertFingerprint.OfNameAndLabels(name, labelMap);
        var startsAt = Timestamp(item, at, "startsAt") ?? receivedAt;
        var id = NonEmpty(Scalar(item, at, "id"));
        var alert = new RunbookAlert(
            Name,
            name,
            status,
            NonEmpty(Scalar(item, at, "severity")) ?? labelMap.GetValueOrDefault("severity"),
            WebhookJson.Freeze(labelMap),
            WebhookJson.Freeze(annotationMap),
            startsAt,
            Timestamp(item, at, "endsAt"),
            fingerprint,
            DeliveryId: id,
            RawPayload: raw);

        // A sender's delivery id makes its retries duplicates even when the payload has no start time to recognise them by.
        var key = id is not null
            ? $"{Name}:id:{id}:{fingerprint}:{WebhookJson.StatusText(status)}"
            : $"{Name}:{fingerprint}:{WebhookJson.KeyTime(startsAt)}:{WebhookJson.StatusText(status)}";
        return new ParsedAlert(alert, key);
    }

    private AlertStatus Status(JsonElement item, string at)
    {
        if (Scalar(item, at, "status") is not { } value)
        {
            return AlertStatus.Firing;
        }

        if (_firing.Contains(value))
        {
            return AlertStatus.Firing;
        }

        if (_resolved.Contains(value))
        {
            return AlertStatus.Resolved;
        }

        // Refused rather than taken as firing: an "acknowledged" or "snoozed" event must not start a runbook.
        throw new PayloadException(
            $"status: \"{value}\" at {Where(at + _fields["status"].Text)} is neither firing ({string.Join(", ", _firing)}) nor resolved ({string.Join(", ", _resolved)}) " +
            $"({_setting}:FiringValues, {_setting}:ResolvedValues)");
    }

    private Dictionary<string, string> Map(JsonElement item, string at, string key, List<(string Name, JsonPointer Pointer)> singles)
    {
        var map = WebhookJson.NewMap();
        if (_fields.TryGetValue(key, out var pointer) && pointer.Resolve(item) is { } value)
        {
            if (value.ValueKind != JsonValueKind.Object)
            {
                throw Wrong(key, at + pointer.Text, "an object", value);
            }

            // Nested objects, arrays and nulls are left out: a label is one value, and senders mix such details into their tag objects.
            foreach (var property in value.EnumerateObject())
            {
                if (Text(property.Value) is { } text)
                {
                    map[property.Name] = text;
                }
            }
        }

        var singleKey = key == "labels" ? LabelPrefix : AnnotationPrefix;
        foreach (var (name, single) in singles)
        {
            if (single.Resolve(item) is { } found)
            {
                map[name] = Text(found) ?? throw Wrong(singleKey + name, at + single.Text, "a string, number or boolean", found);
            }
        }

        return map;
    }

    private string? Scalar(JsonElement item, string at, string key)
    {
        if (!_fields.TryGetValue(key, out var pointer) || pointer.Resolve(item) is not { } value)
        {
            return null;
        }

        return Text(value) ?? throw Wrong(key, at + pointer.Text, "a string, number or boolean", value);
    }

    private DateTimeOffset? Timestamp(JsonElement item, string at, string key)
    {
        if (!_fields.TryGetValue(key, out var pointer) || pointer.Resolve(item) is not { } value)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw Wrong(key, at + pointer.Text, "an RFC 3339 timestamp string", value);
        }

        return Rfc3339.TryParse(Text(value)!, out var time)
            ? time
            : throw new PayloadException($"{key}: not an RFC 3339 timestamp at {Where(at + pointer.Text)} ({_setting}:Fields:{key})");
    }

    private PayloadException Missing(string key, string where) => new($"{key}: nothing at {Where(where)} ({_setting}:Fields:{key})");

    private PayloadException Wrong(string key, string where, string expected, JsonElement value) =>
        new($"{key}: expected {expected} at {Where(where)}, got {Field.KindName(value.ValueKind)} ({_setting}:Fields:{key})");

    private static string Where(string pointer) => pointer.Length == 0 ? "the top of the body" : pointer;

    private static string? NonEmpty(string? value) => value is { Length: > 0 } ? value : null;

    /// <summary>A string, a number as written (so long ids keep their digits) or a boolean; null for anything else.</summary>
    private static string? Text(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.String:
                try
                {
                    return value.GetString();
                }
                catch (InvalidOperationException)
                {
                    throw new PayloadException("a string is not valid Unicode (a lone surrogate escape)");
                }

            case JsonValueKind.Number:
                return value.GetRawText();
            case JsonValueKind.True:
                return "true";
            case JsonValueKind.False:
                return "false";
            default:
                return null;
        }
    }

    private static HashSet<string> Values(string? list) =>
        new((list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.OrdinalIgnoreCase);
}
