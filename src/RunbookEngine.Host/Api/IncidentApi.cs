using RunbookEngine.Incidents;
using RunbookEngine.Runs;
using RunbookEngine.Storage;

namespace RunbookEngine.Host.Api;

/// <summary>Incidents, their timelines, figures and postmortem drafts; documented in docs/api.md.</summary>
internal static class IncidentApi
{
    /// <summary>The most alerts an incident's entry lists; the figures and the timeline still count them all.</summary>
    internal const int MaxAlertsListed = 500;

    /// <summary>The most timeline events an incident's entry lists; <c>timelineOmitted</c> says how many more there are.</summary>
    internal const int MaxTimelineListed = 2000;

    public static void MapIncidentApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/incidents", ListAsync);
        api.MapGet("/incidents/{id}", GetAsync);
        api.MapGet("/incidents/{id}/postmortem", PostmortemAsync);
        api.MapGet("/incidents/{id}/postmortem.md", PostmortemMarkdownAsync);
    }

    private static async Task<IResult> ListAsync(IIncidentStore store, TimeProvider time, string? state, string? service, string? since, string? until, int? limit, string? before, CancellationToken cancellationToken)
    {
        IncidentState? wanted = null;
        if (state is not null)
        {
            if (!Enum.TryParse<IncidentState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(state, out _))
            {
                return TypedResults.BadRequest(new ApiError($"state '{state}' is not open or closed"));
            }

            wanted = parsed;
        }

        var now = time.GetUtcNow();
        DateTimeOffset? from = null, to = null;
        if (since is not null)
        {
            if (!Moments.TryParse(since, now, out var parsed))
            {
                return TypedResults.BadRequest(new ApiError($"since '{since}' is not an ISO 8601 time (2026-11-24T10:00:00Z) or date, or a duration back from now such as 7d"));
            }

            from = parsed;
        }

        if (until is not null)
        {
            if (!Moments.TryParse(until, now, out var parsed))
            {
                return TypedResults.BadRequest(new ApiError($"until '{until}' is not an ISO 8601 time (2026-11-24T10:00:00Z) or date, or a duration back from now such as 1d"));
            }

            to = parsed;
        }

        if (from is not null && to is not null && from >= to)
        {
            return TypedResults.BadRequest(new ApiError("since must be before until"));
        }

        if (limit is < 1 or > 500)
        {
            return TypedResults.BadRequest(new ApiError("limit must be between 1 and 500"));
        }

        var page = await store.ListIncidentsAsync(new IncidentQuery(wanted, service, from, to, limit ?? 50, before), cancellationToken);
        return TypedResults.Ok(new { incidents = page.Select(IncidentView.Of), next = page.Count == (limit ?? 50) ? page[^1].Id : null });
    }

    private static async Task<IResult> GetAsync(string id, IncidentReport report, int? alerts, CancellationToken cancellationToken)
    {
        if (alerts is < 1 or > MaxAlertsListed)
        {
            return TypedResults.BadRequest(new ApiError($"alerts must be between 1 and {MaxAlertsListed}"));
        }

        // The alerts read are bounded, and the timeline drawn from them capped: an incident of a storm's worth of alerts
        // answers in the time one of a hundred does. The figures still count every alert.
        if (await report.GetAsync(id, cancellationToken, alerts ?? MaxAlertsListed) is not { } detail)
        {
            return NotFound(id);
        }

        var facts = detail.Facts;
        var total = facts.Totals?.Count ?? facts.Alerts.Count;
        var budgetSaved = await report.BudgetSavedAsync(detail, cancellationToken);
        return TypedResults.Ok(new
        {
            incident = IncidentView.Of(facts.Incident),
            figures = detail.Figures,
            budgetSaved,
            alerts = facts.Alerts.Select(AlertView.Of),
            alertsOmitted = Math.Max(0, total - facts.Alerts.Count),
            runs = facts.Runs.Select(r => new { r.Id, r.Runbook, r.Status, r.Trigger, r.AlertId, r.RetryOf, r.QueuedAt, r.StartedAt, r.FinishedAt, r.Error }),
            timeline = detail.Timeline.Take(MaxTimelineListed),
            timelineOmitted = Math.Max(0, detail.Timeline.Count - MaxTimelineListed),
            postmortem = $"/api/incidents/{facts.Incident.Id}/postmortem.md",
        });
    }

    private static async Task<IResult> PostmortemAsync(string id, IncidentReport report, CancellationToken cancellationToken) =>
        await report.PostmortemAsync(id, cancellationToken) is { } draft ? TypedResults.Ok(draft) : NotFound(id);

    private static async Task<IResult> PostmortemMarkdownAsync(string id, IncidentReport report, CancellationToken cancellationToken) =>
        await report.PostmortemAsync(id, cancellationToken) is { } draft
            ? TypedResults.Text(draft.ToMarkdown(), "text/markdown; charset=utf-8")
            : NotFound(id);

    private static Microsoft.AspNetCore.Http.HttpResults.NotFound<ApiError> NotFound(string id) => TypedResults.NotFound(new ApiError($"no incident '{id}'"));
}

/// <summary>An incident as the API lists it.</summary>
internal sealed record IncidentView(
    string Id,
    string Title,
    string? Service,
    string State,
    string GroupRule,
    string GroupKey,
    DateTimeOffset OpenedAt,
    DateTimeOffset? ClosedAt,
    DateTimeOffset LastAlertAt,
    int Alerts)
{
    public static IncidentView Of(IncidentRecord record) => new(
        record.Id, record.Title, record.Service, record.State.ToString().ToLowerInvariant(), record.GroupRule, record.GroupKey,
        record.OpenedAt, record.ClosedAt, record.LastAlertAt, record.Alerts);
}
