using System.Text.Json;
using RunbookEngine.Catalog;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Runs;

/// <summary>A run's parameters as people may see them.</summary>
public static class RunParameters
{
    /// <summary>
    /// The parameters as given, with the values of secret parameters replaced by ***. The store keeps them (a
    /// recovered run needs them); the API and the dashboard never show them. When the catalog no longer knows the
    /// runbook, every value is masked, and so is any parameter its current version no longer declares.
    /// </summary>
    /// <param name="run">The run.</param>
    /// <param name="catalog">Where the runbook's definition says which parameters are secret.</param>
    /// <returns>Name → value, masked.</returns>
    public static Dictionary<string, string> Masked(RunRecord run, RunbookCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(catalog);
        var parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(run.ParametersJson) ?? [];
        if (catalog.Find(run.Runbook)?.Definition is not { } definition)
        {
            // The runbook is gone (or broken), so nothing says which values are secret: show none of them.
            return parameters.ToDictionary(p => p.Key, _ => Redactor.Mask, StringComparer.Ordinal);
        }

        // A parameter the current version no longer declares (renamed, removed) may have been secret in the version
        // the run ran: masked too.
        return parameters.ToDictionary(
            p => p.Key,
            p => definition.Parameter(p.Key) is { Secret: false } ? p.Value : Redactor.Mask,
            StringComparer.Ordinal);
    }
}
