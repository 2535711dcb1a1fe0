using RunbookEngine.Incidents;

namespace RunbookEngine.Storage;

/// <summary>
/// Incidents: grouped when alerts are stored (<see cref="IAlertStore.IngestAsync"/>) and closed when their last alert
/// resolves (<see cref="IAlertStore.ResolveAlertsAsync"/>); read here. Implemented by both run store backends.
/// </summary>
public interface IIncidentStore
{
    /// <summary>A page of incidents, newest first.</summary>
    /// <param name="query">Filters and cursor.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The incidents.</returns>
    Task<IReadOnlyList<IncidentRecord>> ListIncidentsAsync(IncidentQuery query, CancellationToken cancellationToken);

    /// <summary>An incident.</summary>
    /// <param name="id">Its id.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>It, or null.</returns>
    Task<IncidentRecord?> GetIncidentAsync(string id, CancellationToken cancellationToken);

    /// <summary>Everything an incident's timeline and figures are built from, read in a handful of set-based queries.</summary>
    /// <param name="id">The incident.</param>
    /// <param name="maxAlerts">Read at most this many of its alerts (the earliest received); null reads them all. The figures still count them all.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The facts, or null when there is no such incident.</returns>
    Task<IncidentFacts?> GetIncidentFactsAsync(string id, int? maxAlerts, CancellationToken cancellationToken);

    /// <summary>
    /// What the figures of the newest incidents opened in a window are built from (no alerts listed, their totals, runs
    /// and steps), in a few set-based queries for all of them rather than a handful per incident.
    /// </summary>
    /// <param name="since">Opened at or after.</param>
    /// <param name="until">Opened before.</param>
    /// <param name="max">At most this many, the newest.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The facts, newest incident first.</returns>
    Task<IReadOnlyList<IncidentFacts>> GetIncidentFiguresFactsAsync(DateTimeOffset since, DateTimeOffset until, int max, CancellationToken cancellationToken);
}
