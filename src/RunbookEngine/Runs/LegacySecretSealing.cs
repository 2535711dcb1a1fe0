using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;
using RunbookEngine.Storage;

namespace RunbookEngine.Runs;

/// <summary>
/// Once, after an upgrade to sealed secret parameters: seals the values that runs recorded before it hold in plain
/// text, so the database stops holding them. Every node may do it at once; each run is sealed once.
/// </summary>
/// <remarks>
/// Which values were secret is known from the runbook's current version only (the version a run ran may have declared
/// more), so this seals what the API masks: secrets, parameters the current version no longer declares, and every
/// value of a runbook the catalog no longer knows.
/// </remarks>
internal sealed partial class LegacySecretSealing(IRunStore store, RunbookCatalog catalog, SecretParameters secrets, TimeProvider time, ILogger<LegacySecretSealing> logger)
    : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (store is not SqlRunStore sql)
        {
            return;
        }

        try
        {
            // The catalog says which parameters are secret: wait for its first load.
            while (!catalog.IsReady)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
            }

            var sealedRuns = await SealAllAsync(sql, stoppingToken);
            if (sealedRuns > 0)
            {
                LogSealed(sealedRuns);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is System.Data.Common.DbException or InvalidOperationException or TimeoutException)
        {
            // The next start tries again; until then the values stay as they were, masked in the API as before.
            LogFailed(ex);
        }
    }

    internal async Task<int> SealAllAsync(SqlRunStore sql, CancellationToken cancellationToken)
    {
        var count = 0;
        var after = "";
        while (true)
        {
            var batch = await sql.UnsealedRunsAsync(after, BatchSize, cancellationToken);
            foreach (var (id, runbook, parameters) in batch)
            {
                var (shown, sealedValues) = secrets.SealLegacy(parameters, catalog.Find(runbook)?.Definition);
                await sql.SealRunParametersAsync(id, shown, sealedValues, cancellationToken);
                count += sealedValues.Length > 0 ? 1 : 0;
            }

            if (batch.Count < BatchSize)
            {
                return count;
            }

            after = batch[^1].Id;
        }
    }

    [LoggerMessage(EventId = 960, Level = LogLevel.Information, Message = "Sealed the secret parameters of {Count} runs recorded before secrets were sealed at rest")]
    private partial void LogSealed(int count);

    [LoggerMessage(EventId = 961, Level = LogLevel.Warning, Message = "Sealing the secret parameters of older runs failed; the next start tries again")]
    private partial void LogFailed(Exception exception);
}
