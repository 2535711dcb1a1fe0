using System.Text.Json;
using System.Text.Json.Nodes;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// Datadog's payload is whatever template a team wrote, so the fields the source reads may live anywhere in it.
/// <c>RunbookEngine:Alerts:Sources:datadog:Fields:{field}</c> names a JSON Pointer for a field; the value found there is
/// put where the source reads that field, before the source reads the body. The other built-in sources send shapes
/// their vendor fixes, so a map belongs only on Datadog; any other shape is a custom source.
/// </summary>
internal sealed class FieldMappedSource(IAlertSource inner, IReadOnlyList<(string Field, JsonPointer Pointer)> fields, string section) : IAlertSource
{
    /// <summary>The built-in sources that take a field map.</summary>
    public static readonly IReadOnlySet<string> Mappable = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "datadog" };

    /// <summary>The fields of the Datadog source a map may set: the names it reads from the top of the body.</summary>
    public static readonly IReadOnlySet<string> DatadogFields = new HashSet<string>(StringComparer.Ordinal)
    {
        "id", "event_id", "alert_id", "title", "alert_title", "alert_transition", "alert_cycle_key", "aggreg_key",
        "alert_priority", "priority", "tags", "event_tags", "date", "last_updated", "body", "link", "event_type",
    };

    public string Name => inner.Name;

    /// <summary>The source as configured: wrapped when it has a field map, else itself.</summary>
    /// <param name="source">The built-in source.</param>
    /// <param name="options">The engine's settings.</param>
    /// <returns>The source to parse with.</returns>
    public static IAlertSource For(IAlertSource source, RunbookEngineOptions options)
    {
        if (!options.Alerts.Sources.TryGetValue(source.Name, out var settings) || settings.Fields.Count == 0 || !Mappable.Contains(source.Name))
        {
            return source;
        }

        // Options validation has refused bad pointers at start; one that still does not parse is skipped rather than trusted.
        var map = settings.Fields
            .Select(f => (Field: f.Key, Ok: JsonPointer.TryParse(f.Value, out var pointer), Pointer: pointer))
            .Where(f => f.Ok)
            .Select(f => (f.Field, f.Pointer!))
            .OrderBy(f => f.Field, StringComparer.Ordinal)
            .ToList();
        return new FieldMappedSource(source, map, $"{RunbookEngineOptions.Section}:Alerts:Sources:{source.Name}");
    }

    /// <summary>What is wrong with the field maps of the built-in sources; each problem names its setting.</summary>
    /// <param name="options">The engine's settings.</param>
    /// <returns>The problems, if any.</returns>
    public static IReadOnlyList<string> Problems(RunbookEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var problems = new List<string>();
        foreach (var (name, settings) in options.Alerts.Sources)
        {
            var section = $"{RunbookEngineOptions.Section}:Alerts:Sources:{name}:Fields";
            if (settings.Fields.Count > 0 && !Mappable.Contains(name))
            {
                problems.Add($"{section}: only datadog takes a field map (its payload is a team's own template); for another shape, configure a custom source under {RunbookEngineOptions.Section}:Alerts:Custom:NAME");
                continue;
            }

            foreach (var (field, text) in settings.Fields)
            {
                if (!DatadogFields.Contains(field))
                {
                    problems.Add($"{section}:{field} is not a field the datadog source reads; use {string.Join(", ", DatadogFields.Order(StringComparer.Ordinal))}");
                }
                else if (!JsonPointer.TryParse(text, out _))
                {
                    problems.Add($"{section}:{field} must be a JSON Pointer such as /event/{field}");
                }
            }
        }

        return problems;
    }

    public WebhookParseResult Parse(WebhookRequest request, DateTimeOffset receivedAt)
    {
        ArgumentNullException.ThrowIfNull(request);
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(request.Body.Span) as JsonObject;
        }
        catch (JsonException)
        {
            root = null;
        }

        // A body that is not a JSON object (form-encoded, or broken) is the source's to refuse or read as it always has.
        if (root is null)
        {
            return Explained(inner.Parse(request, receivedAt));
        }

        using var document = JsonDocument.Parse(request.Body);
        foreach (var (field, pointer) in fields)
        {
            if (pointer.Resolve(document.RootElement) is { } value)
            {
                root[field] = JsonNode.Parse(value.GetRawText());
            }
        }

        return Explained(inner.Parse(request with { Body = JsonSerializer.SerializeToUtf8Bytes(root) }, receivedAt));
    }

    // A field the source still misses after the map was applied: say where the map looked, so the fix is obvious.
    private WebhookParseResult Explained(WebhookParseResult result)
    {
        if (result is not WebhookRejected rejected)
        {
            return result;
        }

        var mapped = fields.Where(f => rejected.Reason.StartsWith(f.Field + ":", StringComparison.Ordinal)).ToList();
        return mapped.Count == 0
            ? rejected
            : rejected with { Reason = $"{rejected.Reason}; {string.Join(", ", mapped.Select(f => $"{section}:Fields:{f.Field} points at {f.Pointer.Text}, which the body does not have"))}" };
    }
}
