using RunbookEngine.TestSupport;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace RunbookEngine.Tests;

/// <summary>
/// docs/operations.md against <see cref="RunbookEngineOptions"/>: every option has a row (key, default, meaning), no row
/// names an option the engine does not have, and every default written there is the code's.
/// </summary>
public sealed partial class OperationsDocTests
{
    private static readonly Lazy<Dictionary<string, string>> Rows = new(ReadRows);

    [Fact]
    public void Every_option_has_a_row_in_the_operations_doc()
    {
        var missing = Options().Select(o => o.Key).Where(key => !Rows.Value.ContainsKey(Normalised(key))).ToList();

        Assert.True(missing.Count == 0, $"docs/operations.md has no row for: {string.Join(", ", missing)}");
    }

    [Fact]
    public void Every_row_of_the_operations_doc_names_a_real_option()
    {
        var known = Options().Select(o => Normalised(o.Key)).ToHashSet(StringComparer.Ordinal);

        var unknown = Rows.Value.Keys.Where(key => key.StartsWith(RunbookEngineOptions.Section + ":", StringComparison.Ordinal) && !known.Contains(key)).ToList();

        Assert.True(unknown.Count == 0, $"docs/operations.md documents options the engine does not have: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void Every_default_in_the_operations_doc_is_the_one_in_the_code()
    {
        var wrong = new List<string>();
        foreach (var (key, type, value) in Options())
        {
            if (value is null || value is string { Length: 0 } || !Rows.Value.TryGetValue(Normalised(key), out var cell))
            {
                continue; // none or a description such as "the repository root"; a missing row is the other test's
            }

            var written = CodeSpan().Matches(cell).Select(m => m.Groups[1].Value).ToList();
            if (!written.Any(text => Same(text, type, value)))
            {
                wrong.Add($"{key}: the code's default is {Format(value)}, the doc says {cell}");
            }
        }

        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    /// <summary>Every option's key (dictionary keys as <c>{}</c>), its type, and its default when it has one of its own.</summary>
    private static IEnumerable<(string Key, Type Type, object? Default)> Options() =>
        Walk(typeof(RunbookEngineOptions), RunbookEngineOptions.Section, new RunbookEngineOptions());

    private static IEnumerable<(string Key, Type Type, object? Default)> Walk(Type type, string prefix, object? instance)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.SetMethod is { IsPublic: true }))
        {
            var key = $"{prefix}:{property.Name}";
            var value = instance is null ? null : property.GetValue(instance);
            var propertyType = property.PropertyType;
            if (IsGeneric(propertyType, typeof(Dictionary<,>)))
            {
                var element = propertyType.GetGenericArguments()[1];
                if (IsValue(element) || IsGeneric(element, typeof(List<>)))
                {
                    yield return ($"{key}:{{}}", element, null);
                }
                else
                {
                    // A section per key: its defaults are those of a fresh one.
                    foreach (var option in Walk(element, $"{key}:{{}}", Activator.CreateInstance(element)))
                    {
                        yield return option;
                    }
                }
            }
            else if (IsGeneric(propertyType, typeof(List<>)))
            {
                yield return (key, propertyType, null); // given by index; an empty list is "none"
            }
            else if (IsValue(propertyType))
            {
                yield return (key, propertyType, value);
            }
            else
            {
                foreach (var option in Walk(propertyType, key, value))
                {
                    yield return option;
                }
            }
        }
    }

    private static bool IsGeneric(Type type, Type definition) => type.IsGenericType && type.GetGenericTypeDefinition() == definition;

    private static bool IsValue(Type type)
    {
        var bound = Nullable.GetUnderlyingType(type) ?? type;
        return bound.IsPrimitive || bound.IsEnum || bound == typeof(string) || bound == typeof(TimeSpan) || bound == typeof(decimal);
    }

    private static bool Same(string text, Type type, object value)
    {
        var bound = Nullable.GetUnderlyingType(type) ?? type;
        if (bound == typeof(TimeSpan))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span == (TimeSpan)value;
        }

        if (bound == typeof(string) || bound.IsEnum)
        {
            return string.Equals(text, value.ToString(), StringComparison.OrdinalIgnoreCase);
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && bound != typeof(bool)
            ? number == Convert.ToDouble(value, CultureInfo.InvariantCulture)
            : string.Equals(text, Format(value), StringComparison.OrdinalIgnoreCase);
    }

    private static string Format(object value) => value switch
    {
        bool b => b ? "true" : "false",
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    // RunbookEngine:Access:Tokens:{name} and RunbookEngine:Access:Tokens:{} are the same key.
    private static string Normalised(string key) => Placeholder().Replace(key, "{}");

    /// <summary>The doc's table rows whose first cell is one key in backticks: key → the default cell.</summary>
    private static Dictionary<string, string> ReadRows()
    {
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadLines(Repository.Path("docs", "operations.md")))
        {
            var cells = line.Split('|');
            if (cells.Length >= 5 && KeyCell().Match(cells[1].Trim()) is { Success: true } key)
            {
                rows[Normalised(key.Groups[1].Value)] = cells[2].Trim();
            }
        }

        return rows;
    }

    [GeneratedRegex(@"\{[^}]*\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"^`([^`]+)`$")]
    private static partial Regex KeyCell();

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex CodeSpan();
}
