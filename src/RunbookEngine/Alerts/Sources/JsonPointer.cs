using System.Globalization;
using System.Text.Json;

namespace RunbookEngine.Alerts.Sources;

/// <summary>An RFC 6901 JSON Pointer, parsed once at start so a bad one fails there and not on the first delivery.</summary>
internal sealed class JsonPointer
{
    private readonly string[] tokens;

    private JsonPointer(string text, string[] tokens)
    {
        Text = text;
        this.tokens = tokens;
    }

    /// <summary>The pointer as written, e.g. <c>/alert/title</c>.</summary>
    public string Text { get; }

    /// <summary>Parses a pointer: empty (the whole value) or <c>/</c>-separated tokens where <c>~0</c> is <c>~</c> and <c>~1</c> is <c>/</c>.</summary>
    public static bool TryParse(string? text, out JsonPointer? pointer)
    {
        pointer = null;
        if (text is null || (text.Length > 0 && text[0] != '/'))
        {
            return false;
        }

        var tokens = text.Length == 0 ? [] : text[1..].Split('/');
        for (var i = 0; i < tokens.Length; i++)
        {
            var token = tokens[i];
            for (var j = token.IndexOf('~', StringComparison.Ordinal); j >= 0; j = token.IndexOf('~', j + 1))
            {
                if (j + 1 >= token.Length || token[j + 1] is not ('0' or '1'))
                {
                    return false;
                }
            }

            // ~1 first: "~01" is the text "~1", not "/".
            tokens[i] = token.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
        }

        pointer = new JsonPointer(text, tokens);
        return true;
    }

    /// <summary>The value the pointer names, or null when there is none (or it is JSON null, which senders use for "not set").</summary>
    public JsonElement? Resolve(JsonElement root)
    {
        var current = root;
        foreach (var token in tokens)
        {
            switch (current.ValueKind)
            {
                case JsonValueKind.Object:
                    if (!current.TryGetProperty(token, out current))
                    {
                        return null;
                    }

                    break;
                case JsonValueKind.Array:
                    // RFC 6901: an index is 0 or digits without a leading zero; "-" (past the end) never names a value.
                    if (token.Length == 0 || (token.Length > 1 && token[0] == '0') || !token.All(char.IsAsciiDigit)
                        || !int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= current.GetArrayLength())
                    {
                        return null;
                    }

                    current = current[index];
                    break;
                default:
                    return null;
            }
        }

        return current.ValueKind == JsonValueKind.Null ? null : current;
    }
}
