using System.Globalization;
using RunbookEngine.Sdk;

namespace RunbookEngine.Slos;

/// <summary>An SLO as validated from <see cref="SloOptions"/>: ratios instead of percentages, the window as a duration.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Service">Its service label value, if given.</param>
/// <param name="Objective">The objective as a ratio (0.999).</param>
/// <param name="Window">The window.</param>
/// <param name="WindowText">The window as configured, for people.</param>
/// <param name="Good">The good events' query, if a pair is used.</param>
/// <param name="Total">The total events' query, if a pair is used.</param>
/// <param name="ErrorRatio">The error ratio's query, if used instead.</param>
/// <param name="LowBelow">The share of budget below which it is low, as a ratio.</param>
public sealed record Slo(string Name, string? Service, double Objective, TimeSpan Window, string WindowText, string? Good, string? Total, string? ErrorRatio, double LowBelow)
{
    /// <summary>The placeholder in each query where the range goes.</summary>
    public const string WindowPlaceholder = "$window";

    /// <summary>Reads configured SLOs; call only on options <see cref="SloValidation"/> passed.</summary>
    /// <param name="options">The configured SLOs.</param>
    /// <returns>The SLOs.</returns>
    public static IReadOnlyList<Slo> From(IEnumerable<SloOptions> options) =>
        [.. options.Select(o => new Slo(
            o.Name, string.IsNullOrWhiteSpace(o.Service) ? null : o.Service, o.Objective / 100, Durations.TryParse(o.Window, out var window) ? window : TimeSpan.Zero,
            o.Window, Blank(o.Good), Blank(o.Total), Blank(o.ErrorRatio), o.LowBelow / 100))];

    /// <summary>A query with its range filled in as PromQL writes durations (whole seconds).</summary>
    /// <param name="query">The query with <see cref="WindowPlaceholder"/>.</param>
    /// <param name="range">The range.</param>
    /// <returns>The query to send.</returns>
    public static string WithRange(string query, TimeSpan range) =>
        query.Replace(WindowPlaceholder, ((long)range.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s", StringComparison.Ordinal);

    private static string? Blank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
}
