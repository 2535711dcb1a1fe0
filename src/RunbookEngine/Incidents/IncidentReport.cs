using RunbookEngine.Storage;

namespace RunbookEngine.Incidents;

/// <summary>Reads an incident and computes what the API, the CLI and the dashboard show of it.</summary>
/// <param name="store">The incident store.</param>
/// <param name="budgets">Estimates the error budget saved, when SLOs are configured.</param>
public sealed class IncidentReport(IIncidentStore store, IncidentBudgets? budgets = null)
{
    /// <summary>The most alerts a postmortem draft reads (the earliest); its figures still count them all.</summary>
    public const int PostmortemAlerts = 1000;

    /// <summary>An incident with its facts, figures and timeline.</summary>
    /// <param name="id">The incident.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <param name="maxAlerts">
    /// Read and draw at most this many of its alerts (the earliest received), for a page that shows a bounded part of a
    /// huge incident; null reads them all. The figures always count them all. Decisions, runs and step output are
    /// bounded whatever this is (<see cref="IncidentFacts.MaxRuns"/>).
    /// </param>
    /// <returns>It, or null when there is no such incident.</returns>
    public async Task<IncidentDetail?> GetAsync(string id, CancellationToken cancellationToken, int? maxAlerts = null)
    {
        if (await store.GetIncidentFactsAsync(id, maxAlerts, cancellationToken) is not { } facts)
        {
            return null;
        }

        var figures = IncidentFigures.Of(facts);
        return new IncidentDetail(facts, figures, IncidentTimeline.Of(facts));
    }

    /// <summary>The error budget the incident's automation saved, when an SLO covers it.</summary>
    /// <param name="detail">The incident as read.</param>
    /// <param name="cancellationToken">Cancels the Prometheus query.</param>
    /// <returns>The estimate, or null without SLOs or without one covering the incident.</returns>
    public Task<IncidentBudgetSaved?> BudgetSavedAsync(IncidentDetail detail, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(detail);
        return budgets is null ? Task.FromResult<IncidentBudgetSaved?>(null) : budgets.EstimateAsync(detail.Facts, detail.Figures, cancellationToken);
    }

    /// <summary>An incident's postmortem draft.</summary>
    /// <param name="id">The incident.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The draft, or null when there is no such incident.</returns>
    public async Task<Postmortem?> PostmortemAsync(string id, CancellationToken cancellationToken) =>
        await GetAsync(id, cancellationToken, PostmortemAlerts) is { } detail ? Postmortem.Of(detail.Facts, detail.Figures, detail.Timeline) : null;
}

/// <summary>An incident as read: the store's facts and what is computed from them.</summary>
/// <param name="Facts">The facts.</param>
/// <param name="Figures">The figures.</param>
/// <param name="Timeline">The timeline, in time order.</param>
public sealed record IncidentDetail(IncidentFacts Facts, IncidentFigures Figures, IReadOnlyList<IncidentEvent> Timeline);
