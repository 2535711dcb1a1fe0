using System.Globalization;

namespace RunbookEngine.Sdk;

/// <summary>
/// The run's parameters, already validated and converted to the types the front matter declares
/// (string, int, number, bool, duration).
/// </summary>
public sealed class RunbookParameters
{
    private readonly IReadOnlyDictionary<string, object?> _values;

    // Names whose values are masked wherever parameters are shown.
    private readonly HashSet<string> _secretNames;

    /// <summary>Creates the parameter set; the host does this after binding and validation.</summary>
    /// <param name="values">Typed values by parameter name.</param>
    /// <param name="secretNames">Names of parameters whose values are secret.</param>
    public RunbookParameters(IReadOnlyDictionary<string, object?> values, IEnumerable<string>? secretNames = null)
    {
        _values = values;
        _secretNames = new HashSet<string>(secretNames ?? [], StringComparer.Ordinal);
    }

    /// <summary>The names of the parameters that have a value.</summary>
    public IEnumerable<string> Names => _values.Keys;

    /// <summary>Whether the parameter has a value.</summary>
    /// <param name="name">The parameter name.</param>
    /// <returns>True when a value was given or defaulted.</returns>
    public bool Has(string name) => _values.TryGetValue(name, out var value) && value is not null;

    /// <summary>The value of a parameter, as <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">string, int, long, double, bool or TimeSpan, matching the declared type.</typeparam>
    /// <param name="name">The parameter name.</param>
    /// <returns>The value.</returns>
    /// <exception cref="RunbookFailedException">The parameter has no value, or cannot be read as <typeparamref name="T"/>.</exception>
    public T Get<T>(string name)
    {
        if (!_values.TryGetValue(name, out var value) || value is null)
        {
            throw new RunbookFailedException($"parameter '{name}' has no value; declare it in the front matter with a default, or mark it required");
        }

        return Convert<T>(name, value);
    }

    /// <summary>The value of a parameter, or <paramref name="fallback"/> when it has none.</summary>
    /// <typeparam name="T">string, int, long, double, bool or TimeSpan.</typeparam>
    /// <param name="name">The parameter name.</param>
    /// <param name="fallback">What to return when the parameter has no value.</param>
    /// <returns>The value or the fallback.</returns>
    public T Get<T>(string name, T fallback) =>
        _values.TryGetValue(name, out var value) && value is not null ? Convert<T>(name, value) : fallback;

    /// <summary>Whether a parameter is declared secret.</summary>
    /// <param name="name">The parameter name.</param>
    /// <returns>True for secret parameters.</returns>
    public bool IsSecret(string name) => _secretNames.Contains(name);

    /// <summary>The parameters as display strings, secrets masked.</summary>
    /// <returns>Name to display value.</returns>
    public IReadOnlyDictionary<string, string?> ToDisplay() =>
        _values.ToDictionary(
            pair => pair.Key,
            pair => IsSecret(pair.Key) ? "***" : Format(pair.Value),
            StringComparer.Ordinal);

    /// <inheritdoc />
    public override string ToString() => string.Join(", ", ToDisplay().Select(pair => $"{pair.Key}={pair.Value}"));

    private static string? Format(object? value) => value switch
    {
        null => null,
        bool b => b ? "true" : "false",
        TimeSpan span => Durations.Format(span),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static T Convert<T>(string name, object value)
    {
        if (value is T typed)
        {
            return typed;
        }

        try
        {
            var target = Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T);
            if (target == typeof(string))
            {
                return (T)(object)Format(value)!;
            }

            if (value is IConvertible && target.IsPrimitive)
            {
                return (T)System.Convert.ChangeType(value, target, CultureInfo.InvariantCulture);
            }
        }
        catch (Exception ex) when (ex is InvalidCastException or FormatException or OverflowException)
        {
            throw new RunbookFailedException($"parameter '{name}' holds {value.GetType().Name} '{value}', which cannot be read as {typeof(T).Name}", ex);
        }

        throw new RunbookFailedException($"parameter '{name}' holds {value.GetType().Name} '{value}', which cannot be read as {typeof(T).Name}");
    }
}
