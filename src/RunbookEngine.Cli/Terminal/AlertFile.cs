using System.Text.Json;
using RunbookEngine.Sdk;

namespace RunbookEngine.Cli.Terminal;

/// <summary>
/// Reads an alert for a local run: the generic JSON shape (name, status, labels, annotations, fingerprint, startsAt,
/// endsAt) or an Alertmanager webhook body, whose first alert is used.
/// </summary>
internal static class AlertFile
{
    public static RunbookAlert Read(string path, TimeProvider time)
    {
        var raw = File.ReadAllText(path);
        using var document = JsonDocument.Parse(raw);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new FormatException("the alert must be a JSON object");
        }

        var source = "generic";
        var alert = root;
        if (root.TryGetProperty("alerts", out var alerts) && alerts.ValueKind == JsonValueKind.Array)
        {
            if (alerts.GetArrayLength() == 0)
            {
                throw new FormatException("the Alertmanager payload holds no alerts");
            }

            source = "alertmanager";
            alert = alerts[0];
        }

        var labels = Map(alert, "labels");
        var annotations = Map(alert, "annotations");
        var name = Text(alert, "name") ?? labels.GetValueOrDefault("alertname")
            ?? throw new FormatException("the alert has no name (a \"name\" field or an \"alertname\" label)");
        var status = string.Equals(Text(alert, "status"), "resolved", StringComparison.OrdinalIgnoreCase) ? AlertStatus.Resolved : AlertStatus.Firing;
        var startsAt = Time(alert, "startsAt") ?? time.GetUtcNow();
        var endsAt = Time(alert, "endsAt");
        var fingerprint = Text(alert, "fingerprint") ?? $"{name}:{string.Join(',', labels.OrderBy(l => l.Key).Select(l => $"{l.Key}={l.Value}"))}";
        return new RunbookAlert(Text(alert, "source") ?? source, name, status, labels.GetValueOrDefault("severity") ?? Text(alert, "severity"),
            labels, annotations, startsAt, endsAt is { Year: > 1 } ? endsAt : null, fingerprint, null, raw);
    }

    private static string? Text(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static DateTimeOffset? Time(JsonElement element, string property) =>
        Text(element, property) is { } text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;

    private static Dictionary<string, string> Map(JsonElement element, string property)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        if (element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.Object)
        {
            foreach (var pair in value.EnumerateObject())
            {
                map[pair.Name] = pair.Value.ValueKind == JsonValueKind.String ? pair.Value.GetString()! : pair.Value.GetRawText();
            }
        }

        return map;
    }
}
