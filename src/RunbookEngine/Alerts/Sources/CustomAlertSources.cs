using Microsoft.Extensions.Options;

namespace RunbookEngine.Alerts.Sources;

/// <summary>The custom sources configured under <c>RunbookEngine:Alerts:Custom</c>, built once (options validation has checked them at start).</summary>
public sealed class CustomAlertSources(IOptions<RunbookEngineOptions> options)
{
    private readonly Lazy<IReadOnlyDictionary<string, IAlertSource>> sources = new(() =>
        options.Value.Alerts.Custom.ToDictionary(
            pair => pair.Key, pair => (IAlertSource)CustomSource.Create(pair.Key, pair.Value), StringComparer.OrdinalIgnoreCase));

    /// <summary>The configured names, sorted.</summary>
    public IReadOnlyList<string> Names => [.. sources.Value.Keys.Order(StringComparer.OrdinalIgnoreCase)];

    /// <summary>The custom source with this name (the part after <c>/hooks/custom/</c>), ignoring case.</summary>
    /// <param name="name">The name, e.g. <c>acme</c>.</param>
    /// <returns>The source, or null when none is configured by that name.</returns>
    public IAlertSource? Find(string name) => sources.Value.GetValueOrDefault(name);

    /// <summary>What is wrong with the custom sources' settings, each naming its setting.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The problems; empty when there are none.</returns>
    public static IReadOnlyList<string> Problems(RunbookEngineOptions options) =>
        [.. options.Alerts.Custom.SelectMany(pair => CustomSource.Problems(pair.Key, pair.Value))];
}
