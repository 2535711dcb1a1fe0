using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using RunbookEngine.Catalog;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Alerts;

/// <summary>
/// Which runbooks an alert's front matter <c>alerts:</c> rules pick: a rule matches when its name equals the alert's,
/// its source (if given) equals the alert's, and each label pattern matches the whole label value.
/// </summary>
public static class AlertMatcher
{
    private static readonly ConcurrentDictionary<string, Regex?> Patterns = new(StringComparer.Ordinal);

    /// <summary>The catalog entries with a rule that matches the alert, valid or not (an invalid one is reported, not run).</summary>
    /// <param name="entries">The catalog.</param>
    /// <param name="alert">The alert.</param>
    /// <returns>The matching entries, by name.</returns>
    public static IReadOnlyList<CatalogEntry> Match(IEnumerable<CatalogEntry> entries, RunbookAlert alert)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(alert);
        return [.. entries.Where(e => e.Definition is { } d && d.Alerts.Any(rule => Matches(rule, alert))).OrderBy(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>Whether one rule matches the alert.</summary>
    /// <param name="rule">The rule.</param>
    /// <param name="alert">The alert.</param>
    /// <returns>True when every condition holds.</returns>
    public static bool Matches(AlertRule rule, RunbookAlert alert)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(alert);
        if (rule.Name is { } name && !string.Equals(name, alert.Name, StringComparison.Ordinal))
        {
            return false;
        }

        if (rule.Source is { } source && !string.Equals(source, alert.Source, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        foreach (var (label, pattern) in rule.Labels)
        {
            var value = alert.Label(label) ?? "";
            if (Pattern(pattern) is not { } regex || !IsMatch(regex, value))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsMatch(Regex regex, string value)
    {
        try
        {
            return regex.IsMatch(value);
        }
        catch (RegexMatchTimeoutException)
        {
            // A pathological pattern against hostile label text: no match rather than a stuck matcher.
            return false;
        }
    }

    // Anchored like Alertmanager's =~ matchers; the front matter parser has already refused patterns that do not compile.
    private static Regex? Pattern(string pattern) => Patterns.GetOrAdd(pattern, p =>
    {
        try
        {
            return new Regex($"^(?:{p})$", RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException)
        {
            return null;
        }
    });
}
