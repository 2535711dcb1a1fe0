using System.Globalization;
using RunbookEngine.Sdk;

namespace RunbookEngine;

/// <summary>How people write the ends of a time window: a time (UTC unless it says otherwise), or a duration back ("7d").</summary>
public static class Moments
{
    /// <summary>Reads "2026-11-24T08:00:00Z", "2026-11-24 08:00" (UTC) or "24h" (24 hours before <paramref name="reference"/>).</summary>
    /// <param name="text">What was written.</param>
    /// <param name="reference">What a duration counts back from, usually now.</param>
    /// <param name="value">The moment.</param>
    /// <returns>Whether the text is one.</returns>
    public static bool TryParse(string text, DateTimeOffset reference, out DateTimeOffset value)
    {
        if (Durations.TryParse(text, out var back))
        {
            value = reference - back;
            return true;
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }
}
