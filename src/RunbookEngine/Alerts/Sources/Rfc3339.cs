using System.Globalization;
using System.Text.RegularExpressions;

namespace RunbookEngine.Alerts.Sources;

/// <summary>
/// Strict RFC 3339 date-times. Hand-rolled because Alertmanager and Grafana send nanoseconds (9 fraction digits), more than
/// DateTimeOffset's format strings take; digits beyond the 7th (100 ns) are truncated, never rounded, so a resend maps to the same value.
/// </summary>
internal static partial class Rfc3339
{
    public static bool TryParse(string text, out DateTimeOffset value)
    {
        value = default;
        var match = Shape().Match(text);
        if (!match.Success)
        {
            return false;
        }

        var fraction = match.Groups["fraction"].Value;
        fraction = fraction.Length > 7 ? fraction[..7] : fraction.PadRight(7, '0');
        var offset = match.Groups["offset"].Value;
        offset = offset is "Z" or "z" ? "+00:00" : offset;

        // The regex fixed the shape; TryParseExact checks ranges (month 13, Feb 30, an offset past ±14 h, a UTC value before year 1) without throwing.
        var canonical = $"{match.Groups["date"].Value}T{match.Groups["time"].Value}.{fraction}{offset}";
        return DateTimeOffset.TryParseExact(canonical, "yyyy-MM-dd'T'HH:mm:ss.fffffffzzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out value);
    }

    /// <summary>Go's zero time, which Alertmanager and Grafana send for "not set".</summary>
    public static bool IsGoZero(DateTimeOffset value) => value.UtcTicks == 0;

    [GeneratedRegex(@"\A(?<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt](?<time>[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.(?<fraction>[0-9]+))?(?<offset>[Zz]|[+-][0-9]{2}:[0-9]{2})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
