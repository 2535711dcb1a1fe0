using RunbookEngine.Catalog;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>
/// What an attempt of a run needs before its code runs: the exact version it was queued with, its parameters bound (secret
/// ones opened), and the alert that started it. One place for the host and for a run's own process, so they cannot drift.
/// </summary>
internal static class RunAttempt
{
    /// <summary>Prepares an attempt, or says why it cannot run.</summary>
    /// <param name="run">The run, claimed by this execution.</param>
    /// <param name="catalog">Resolves the exact version, served or rebuilt from the version store.</param>
    /// <param name="alerts">Where the alert that started the run is.</param>
    /// <param name="secrets">Opens the run's sealed secret parameters.</param>
    /// <param name="retry">Waits out a store that is away, logging under the run.</param>
    /// <param name="stopping">Ends the waiting (the node or the run's process is stopping).</param>
    /// <param name="cancellationToken">Cancels the reads (the run is cancelled).</param>
    /// <returns>The prepared attempt; dispose it to release the version.</returns>
    public static async Task<PreparedAttempt> PrepareAsync(
        RunRecord run, RunbookCatalog catalog, IAlertStore alerts, SecretParameters secrets, StoreRetry retry, CancellationToken stopping, CancellationToken cancellationToken)
    {
        // Exactly the version the run was queued with, whatever the catalog serves now and whichever node this is.
        var version = await retry.RunAsync($"the version of run {run.Id}", _ => catalog.ResolveAsync(run.Runbook, run.ContentHash, cancellationToken), stopping);
        if (version is not { Definition: { } definition, Compiled: { } compiled })
        {
            version.Dispose();
            return PreparedAttempt.Failed(version.Error ?? $"version {run.ContentHash} of {run.Runbook} cannot run");
        }

        try
        {
            var bound = ParameterBinder.Bind(definition, secrets.Open(run), alert: null);
            if (bound.Parameters is null)
            {
                version.Dispose();
                return PreparedAttempt.Failed(string.Join("; ", bound.Errors));
            }

            // The script sees the alert that started the run as data (Alert.Labels, ...), never as code.
            var alert = run.AlertId is { } alertId
                ? (await retry.RunAsync($"the alert of run {run.Id}", _ => alerts.GetAlertAsync(alertId, cancellationToken), stopping))?.Alert
                : null;
            return new PreparedAttempt(version, definition, compiled, bound.Parameters, alert, null);
        }
        catch (CryptographicSealException ex)
        {
            version.Dispose();
            return PreparedAttempt.Failed(ex.Message);
        }
        catch
        {
            version.Dispose();
            throw;
        }
    }
}

/// <summary>An attempt ready to run, or the reason it cannot (<see cref="Error"/> set, everything else null).</summary>
/// <param name="Version">The leased version; released on dispose.</param>
/// <param name="Definition">Its front matter.</param>
/// <param name="Compiled">Its compiled code.</param>
/// <param name="Parameters">The run's parameters, bound.</param>
/// <param name="Alert">The alert that started the run, if any.</param>
/// <param name="Error">Why the attempt cannot run.</param>
internal sealed record PreparedAttempt(
    ResolvedVersion? Version, RunbookDefinition? Definition, CompiledRunbook? Compiled, RunbookParameters? Parameters, RunbookAlert? Alert, string? Error) : IDisposable
{
    public static PreparedAttempt Failed(string error) => new(null, null, null, null, null, error);

    public void Dispose() => Version?.Dispose();
}
