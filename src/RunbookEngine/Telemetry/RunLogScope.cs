using Microsoft.Extensions.Logging;
using RunbookEngine.Runs;

namespace RunbookEngine.Telemetry;

/// <summary>
/// The properties every log line about a run carries (RunId, Runbook, Version, and Step inside a step), so a log
/// search for a run finds all of it, whichever class wrote the line.
/// </summary>
internal static class RunLogScope
{
    /// <summary>A logging scope naming the run (and the step, when given).</summary>
    /// <param name="logger">The logger.</param>
    /// <param name="run">The run.</param>
    /// <param name="step">The step, when the lines are about one.</param>
    /// <returns>The scope; dispose it when the lines are written.</returns>
    public static IDisposable? Begin(ILogger logger, RunRecord run, string? step = null) =>
        logger.BeginScope(Properties(run.Id, run.Runbook, run.ContentHash, step));

    /// <summary>The properties.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="runbook">The runbook.</param>
    /// <param name="contentHash">The version's content hash; its first 12 digits name it.</param>
    /// <param name="step">The step, if any.</param>
    /// <returns>The scope's state.</returns>
    public static Dictionary<string, object> Properties(string runId, string runbook, string contentHash, string? step = null)
    {
        var properties = new Dictionary<string, object> { ["RunId"] = runId, ["Runbook"] = runbook, ["Version"] = contentHash[..Math.Min(12, contentHash.Length)] };
        if (step is not null)
        {
            properties["Step"] = step;
        }

        return properties;
    }
}
