using System.Text.Json;
using Microsoft.AspNetCore.DataProtection;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Runs;

/// <summary>
/// Secret parameter values at rest. They are kept out of the run's searchable parameters (which hold *** in their
/// place) and sealed with the cluster's Data Protection key ring, so neither a search nor a copy of the database
/// gives them away, while any node, or the run's own process, can open them to bind a retry or a recovery.
/// </summary>
public sealed class SecretParameters(IDataProtectionProvider protection)
{
    private readonly IDataProtector _protector = protection.CreateProtector("RunbookEngine.Runs.SecretParameters.v1");

    /// <summary>Splits the parameters into what is stored as given and what is sealed.</summary>
    /// <param name="parameters">The values given, by name.</param>
    /// <param name="definition">The runbook version that runs: it says which parameters are secret.</param>
    /// <returns>The stored JSON (secrets as ***) and the sealed secrets ("" when there are none).</returns>
    public (string ParametersJson, string Sealed) Seal(IReadOnlyDictionary<string, string> parameters, RunbookDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(definition);
        var shown = new Dictionary<string, string>(StringComparer.Ordinal);
        var secret = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (definition.Parameter(name) is { Secret: true })
            {
                secret[name] = value;
                shown[name] = Redactor.Mask;
            }
            else
            {
                shown[name] = value;
            }
        }

        // "" rather than null: null is kept for runs recorded before secrets were sealed, which LegacySecretSealing visits.
        return (JsonSerializer.Serialize(shown), secret.Count == 0 ? "" : _protector.Protect(JsonSerializer.Serialize(secret)));
    }

    /// <summary>
    /// Seals the values of a run recorded before secrets were sealed: those <see cref="RunParameters.Masked"/> hides,
    /// that is every value the current version does not declare as plainly visible.
    /// </summary>
    /// <param name="parametersJson">The run's stored parameters.</param>
    /// <param name="definition">The runbook's current version, or null when the catalog no longer knows it.</param>
    /// <returns>The stored JSON with *** in place of the sealed values, and the sealed values ("" when none).</returns>
    public (string ParametersJson, string Sealed) SealLegacy(string parametersJson, RunbookDefinition? definition)
    {
        var parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(parametersJson) ?? [];
        var hidden = parameters.Where(p => definition?.Parameter(p.Key) is not { Secret: false }).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        if (hidden.Count == 0)
        {
            return (parametersJson, "");
        }

        var shown = parameters.ToDictionary(p => p.Key, p => hidden.ContainsKey(p.Key) ? Redactor.Mask : p.Value, StringComparer.Ordinal);
        return (JsonSerializer.Serialize(shown), _protector.Protect(JsonSerializer.Serialize(hidden)));
    }

    /// <summary>The parameters as given, secrets opened.</summary>
    /// <param name="run">The run.</param>
    /// <returns>Name → value.</returns>
    /// <exception cref="CryptographicSealException">The key that sealed them is not in the key ring.</exception>
    public Dictionary<string, string> Open(RunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var parameters = JsonSerializer.Deserialize<Dictionary<string, string>>(run.ParametersJson) ?? [];
        if (run.SealedParameters is { Length: > 0 } sealedText)
        {
            string json;
            try
            {
                json = _protector.Unprotect(sealedText);
            }
            catch (System.Security.Cryptography.CryptographicException ex)
            {
                throw new CryptographicSealException(
                    $"the secret parameters of run {run.Id} cannot be opened: the key that sealed them is not in the key ring (was RunbookEngine:Access:KeyRingPath changed, or the key ring lost?)", ex);
            }

            foreach (var (name, value) in JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? [])
            {
                parameters[name] = value;
            }
        }

        return parameters;
    }
}

/// <summary>Secret parameters whose key is gone: the run cannot bind them, and says why.</summary>
/// <param name="message">What happened and what to check.</param>
/// <param name="inner">Data Protection's error.</param>
public sealed class CryptographicSealException(string message, Exception inner) : Exception(message, inner);
