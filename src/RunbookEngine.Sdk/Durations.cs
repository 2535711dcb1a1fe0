using System.Globalization;
using System.Text.RegularExpressions;

namespace RunbookEngine.Sdk;

/// <summary>Short, readable durations for messages: <c>850ms</c>, <c>12s</c>, <c>10m</c>, <c>1h30m</c>.</summary>
public static partial class Durations
{
    /// <summary>The longest timeout the runtime can arm (timers count milliseconds in 32 bits); longer ones are refused.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(30);

    /// <summary>What a person should write instead of a duration that did not parse.</summary>
    public const string Hint = "use 10m, 1h30m or 00:10:00";

    /// <summary>Reads <c>500ms</c>, <c>45s</c>, <c>10m</c>, <c>1h30m</c>, <c>2d</c> or <c>hh:mm:ss</c>; a bare number is refused because its unit would be a guess.</summary>
    /// <param name="text">The text.</param>
    /// <param name="value">The duration, when the text is one.</param>
    /// <returns>True when the text is a duration.</returns>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParseExact(text, ["c", @"hh\:mm\:ss", @"h\:mm\:ss", @"d\.hh\:mm\:ss"], CultureInfo.InvariantCulture, out value) && value >= TimeSpan.Zero;
        }

        var match = UnitPattern().Match(text);
        if (!match.Success || match.Length == 0)
        {
            return false;
        }

        double Part(string group) => match.Groups[group].Success ? double.Parse(match.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        try
        {
            value = TimeSpan.FromDays(Part("d")) + TimeSpan.FromHours(Part("h")) + TimeSpan.FromMinutes(Part("m"))
                + TimeSpan.FromSeconds(Part("s")) + TimeSpan.FromMilliseconds(Part("ms"));
            return true;
        }
        catch (OverflowException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^(?:(?<d>\d+)d)?(?:(?<h>\d+)h)?(?:(?<m>\d+)m(?!s))?(?:(?<s>\d+(?:\.\d+)?)s)?(?:(?<ms>\d+)ms)?$", RegexOptions.CultureInvariant)]
    private static partial Regex UnitPattern();

    /// <summary>Formats a duration the way runbook front matter writes it.</summary>
    /// <param name="value">The duration.</param>
    /// <returns>The text.</returns>
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return value.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + "ms";
        }

        if (value < TimeSpan.FromMinutes(1))
        {
            return value.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s";
        }

        var parts = new List<string>(4);
        if (value.Days > 0)
        {
            parts.Add($"{value.Days}d");
        }

        if (value.Hours > 0)
        {
            parts.Add($"{value.Hours}h");
        }

        if (value.Minutes > 0)
        {
            parts.Add($"{value.Minutes}m");
        }

        if (value.Seconds > 0)
        {
            parts.Add($"{value.Seconds}s");
        }

        return string.Concat(parts);
    }
}
