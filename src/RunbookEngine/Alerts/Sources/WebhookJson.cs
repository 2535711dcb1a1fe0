using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts.Sources;

/// <summary>A body that is valid JSON but not the shape a source expects; the message starts with the offending field's path.</summary>
internal sealed class PayloadException(string message) : Exception(message);

/// <summary>The steps every JSON source shares: content type, UTF-8, JSON, then the source's own reading, turning every failure into a rejection.</summary>
internal static class WebhookJson
{
    // Duplicate keys are refused: a signed body must mean one thing, and with duplicates two parsers can disagree on which value counts.
    private static readonly JsonDocumentOptions DocumentOptions = new() { AllowDuplicateProperties = false };

    public static WebhookParseResult Parse(WebhookRequest request, Func<Field, string, WebhookParseResult> read) => Parse(request, read, acceptTextPlain: false);

    /// <param name="request">The request.</param>
    /// <param name="read">Reads the parsed body.</param>
    /// <param name="acceptTextPlain">Take <c>text/plain</c> too: Amazon SNS posts its JSON as <c>text/plain; charset=UTF-8</c> unless told otherwise.</param>
    public static WebhookParseResult Parse(WebhookRequest request, Func<Field, string, WebhookParseResult> read, bool acceptTextPlain)
    {
        var contentType = request.ContentType ?? Header(request, "Content-Type");
        if (!IsMediaType(contentType, "application/json") && !(acceptTextPlain && IsMediaType(contentType, "text/plain")))
        {
            return new WebhookRejected(415, acceptTextPlain ? "expected text/plain or application/json" : "expected application/json");
        }

        var body = request.Body;
        if (body.IsEmpty)
        {
            return new WebhookRejected(400, "malformed JSON: empty body");
        }

        // Checked up front so RawPayload is the body exactly; decoding would otherwise swap bad bytes for U+FFFD without a word.
        if (!Utf8.IsValid(body.Span))
        {
            return new WebhookRejected(400, "malformed JSON: not valid UTF-8");
        }

        var json = body.Span.StartsWith("\uFEFF"u8) ? body[3..] : body;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, DocumentOptions);
        }
        catch (JsonException e)
        {
            return new WebhookRejected(400, "malformed JSON: " + Describe(e));
        }
        catch (InvalidOperationException)
        {
            // The duplicate-key check unescapes every property name and throws this, not a JsonException, for "\ud800".
            return new WebhookRejected(400, "malformed JSON: a property name is not valid Unicode (a lone surrogate escape)");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new WebhookRejected(400, $"$: expected an object, got {Field.KindName(root.ValueKind)}");
            }

            try
            {
                return read(new Field(root, ""), Encoding.UTF8.GetString(body.Span));
            }
            catch (PayloadException e)
            {
                return new WebhookRejected(400, e.Message);
            }
        }
    }

    /// <summary>A header's value; falls back to a case-insensitive scan in case the caller built the dictionary with the default comparer.</summary>
    public static string? Header(WebhookRequest request, string name)
    {
        if (request.Headers.TryGetValue(name, out var value))
        {
            return value;
        }

        foreach (var (key, candidate) in request.Headers)
        {
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase))
            {
                return candidate;
            }
        }

        return null;
    }

    public static IReadOnlyDictionary<string, string> Freeze(Dictionary<string, string> values) => values.AsReadOnly();

    public static Dictionary<string, string> NewMap() => new(StringComparer.Ordinal);

    /// <summary>Sets a label or annotation when there is a value; sources leave out what the sender did not say rather than store empty strings.</summary>
    public static void Put(Dictionary<string, string> map, string key, string? value)
    {
        if (value is not null)
        {
            map[key] = value;
        }
    }

    /// <summary>Splits <c>key:value</c> at the first colon; a key may repeat with several values, which are kept comma-joined.</summary>
    public static void AddTag(Dictionary<string, string> labels, string tag)
    {
        if (tag.Length == 0)
        {
            return;
        }

        var colon = tag.IndexOf(':', StringComparison.Ordinal);
        var (key, value) = colon < 0 ? (tag, "") : (tag[..colon], tag[(colon + 1)..]);
        if (key.Length == 0)
        {
            return;
        }

        labels[key] = labels.TryGetValue(key, out var existing) && existing != value && !existing.Split(',').Contains(value)
            ? existing + "," + value
            : value;
    }

    /// <summary>The Alertmanager-style status words, which the generic source uses too.</summary>
    public static AlertStatus ParseStatus(Field field) => field.AsString() switch
    {
        "firing" => AlertStatus.Firing,
        "resolved" => AlertStatus.Resolved,
        var other => throw field.Error($"expected \"firing\" or \"resolved\", got \"{other}\""),
    };

    public static string StatusText(AlertStatus status) => status == AlertStatus.Firing ? "firing" : "resolved";

    /// <summary>The timestamp part of a dedup key: UTC, so one instant written with two offsets is still one key.</summary>
    public static string KeyTime(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static bool IsMediaType(string? contentType, string expected)
    {
        if (contentType is null)
        {
            return false;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return string.Equals(mediaType, expected, StringComparison.OrdinalIgnoreCase);
    }

    private static string Describe(JsonException e)
    {
        // System.Text.Json appends " LineNumber: 0 | BytePositionInLine: 12." to its message; say it once, 1-based.
        var message = e.Message;
        var cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut >= 0)
        {
            message = message[..cut];
        }

        message = message.Trim();
        return e.LineNumber is { } line && e.BytePositionInLine is { } position
            ? string.Create(CultureInfo.InvariantCulture, $"{message} (line {line + 1}, byte {position + 1})")
            : message;
    }
}
