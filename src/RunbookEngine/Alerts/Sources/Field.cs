using System.Globalization;
using System.Text.Json;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// A JSON value with the path that led to it, so every shape error names its field (<c>alerts[1].startsAt: ...</c>).
/// JSON <c>null</c> counts as absent throughout: Go encodes nil maps and pointers as null.
/// </summary>
internal readonly struct Field(JsonElement element, string path)
{
    public JsonElement Element { get; } = element;

    public string Path { get; } = path;

    public JsonValueKind Kind => Element.ValueKind;

    public PayloadException Error(string problem) => new($"{(Path.Length == 0 ? "$" : Path)}: {problem}");

    public string ChildPath(string name)
    {
        if (!IsPlainName(name))
        {
            return Path + "[\"" + name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"]";
        }

        return Path.Length == 0 ? name : Path + "." + name;
    }

    /// <summary>The property, or null when it is missing or JSON null. Asking a non-object is a shape error, not an InvalidOperationException.</summary>
    public Field? Get(string name) =>
        ExpectObject().Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? new Field(value, ChildPath(name)) : null;

    public Field Require(string name) => Get(name) ?? throw new PayloadException($"{ChildPath(name)}: missing");

    public Field ExpectObject() => Kind == JsonValueKind.Object ? this : throw Error($"expected an object, got {KindName(Kind)}");

    public Field? Object(string name) => Get(name)?.ExpectObject();

    public Field RequireObject(string name) => Require(name).ExpectObject();

    public IReadOnlyList<Field> RequireArray(string name)
    {
        var field = Require(name);
        return field.Kind == JsonValueKind.Array ? field.Items() : throw field.Error($"expected an array, got {KindName(field.Kind)}");
    }

    public IReadOnlyList<Field> Items()
    {
        var items = new List<Field>(Element.GetArrayLength());
        var index = 0;
        foreach (var item in Element.EnumerateArray())
        {
            items.Add(new Field(item, string.Create(CultureInfo.InvariantCulture, $"{Path}[{index++}]")));
        }

        return items;
    }

    public string AsString() => Kind == JsonValueKind.String ? Text() : throw Error($"expected a string, got {KindName(Kind)}");

    /// <summary>An optional string property; a value of another type is an error, not a silent miss.</summary>
    public string? String(string name) => Get(name)?.AsString();

    /// <summary>An optional string property where an empty string means absent (template variables render empty when unknown).</summary>
    public string? NonEmptyString(string name) => String(name) is { Length: > 0 } value ? value : null;

    public string RequireString(string name) => Require(name).AsString();

    /// <summary>An identifier that senders write as a string or a number; a number is kept as written so large ids lose no digits.</summary>
    public string? Scalar(string name)
    {
        var field = Get(name);
        return field?.Kind switch
        {
            null => null,
            JsonValueKind.String => field.Value.Text() is { Length: > 0 } text ? text : null,
            JsonValueKind.Number => field.Value.Element.GetRawText(),
            _ => throw field.Value.Error($"expected a string or a number, got {KindName(field.Value.Kind)}"),
        };
    }

    public long? Int64(string name)
    {
        var field = Get(name);
        if (field is null)
        {
            return null;
        }

        return field.Value.Kind == JsonValueKind.Number && field.Value.Element.TryGetInt64(out var value)
            ? value
            : throw field.Value.Error($"expected an integer, got {KindName(field.Value.Kind)}");
    }

    /// <summary>An optional RFC 3339 timestamp string.</summary>
    public DateTimeOffset? Timestamp(string name)
    {
        var field = Get(name);
        if (field is null)
        {
            return null;
        }

        if (field.Value.Kind != JsonValueKind.String)
        {
            throw field.Value.Error($"expected an RFC 3339 timestamp string, got {KindName(field.Value.Kind)}");
        }

        return Rfc3339.TryParse(field.Value.Text(), out var value) ? value : throw field.Value.Error("not an RFC 3339 timestamp");
    }

    public DateTimeOffset RequireTimestamp(string name) => Timestamp(name) ?? throw new PayloadException($"{ChildPath(name)}: missing");

    /// <summary>A string-to-string object such as labels or annotations; missing or null is empty.</summary>
    public Dictionary<string, string> StringMap(string name)
    {
        var map = WebhookJson.NewMap();
        var field = Object(name);
        if (field is null)
        {
            return map;
        }

        foreach (var property in field.Value.Element.EnumerateObject())
        {
            var value = new Field(property.Value, field.Value.ChildPath(property.Name));
            map[property.Name] = value.AsString();
        }

        return map;
    }

    /// <summary>A string value. JSON may escape a lone UTF-16 surrogate (<c>"\ud800"</c>), which System.Text.Json refuses to turn into a string.</summary>
    private string Text()
    {
        try
        {
            return Element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw Error("not valid Unicode (a lone surrogate escape)");
        }
    }

    public static string KindName(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static bool IsPlainName(string name)
    {
        if (name.Length == 0 || char.IsAsciiDigit(name[0]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '_')
            {
                return false;
            }
        }

        return true;
    }
}
