using System.Globalization;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Parameters;

/// <summary>Converts parameter text (from the CLI, the API, an alert or a YAML default) to its declared type.</summary>
public static class ParameterValue
{
    /// <summary>Converts text to the parameter type.</summary>
    /// <param name="type">The declared type.</param>
    /// <param name="text">The text.</param>
    /// <param name="value">The typed value.</param>
    /// <param name="error">Why the text is not of the type.</param>
    /// <returns>True when it converts.</returns>
    public static bool TryConvert(ParameterType type, string text, out object? value, out string? error)
    {
        error = null;
        value = null;
        switch (type)
        {
            case ParameterType.String:
                value = text;
                return true;
            case ParameterType.Int when long.TryParse(text.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole):
                value = whole;
                return true;
            case ParameterType.Number when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var number):
                value = number;
                return true;
            case ParameterType.Bool when bool.TryParse(text.Trim(), out var flag):
                value = flag;
                return true;
            case ParameterType.Duration when Durations.TryParse(text, out var duration):
                value = duration;
                return true;
            case ParameterType.Duration:
                error = $"'{text}' is not a duration; {Durations.Hint}";
                return false;
            default:
                error = $"'{text}' is not {Article(type)}";
                return false;
        }
    }

    /// <summary>The type's name as front matter writes it.</summary>
    /// <param name="type">The type.</param>
    /// <returns>string, int, number, bool or duration.</returns>
    public static string Name(ParameterType type) => type.ToString().ToLowerInvariant();

    private static string Article(ParameterType type) => type switch
    {
        ParameterType.Int => "an int (a whole number)",
        ParameterType.Number => "a number",
        ParameterType.Bool => "a bool (true or false)",
        _ => "a " + Name(type),
    };
}
