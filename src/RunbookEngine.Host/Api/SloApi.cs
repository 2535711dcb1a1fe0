using RunbookEngine.Slos;

namespace RunbookEngine.Host.Api;

/// <summary><c>GET /api/slos</c>: every configured SLO's error budget as this node last read it from Prometheus.</summary>
internal static class SloApi
{
    public static void MapSloApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/slos", (SloBudgets budgets) => TypedResults.Ok(new { slos = budgets.Current().Select(SloView.Of) }));
    }
}

/// <summary>An SLO as the API shows it: percentages as given in configuration, the state in lower case.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Service">Its service label value.</param>
/// <param name="Objective">The objective in percent.</param>
/// <param name="Window">Its window.</param>
/// <param name="Sli">Good events over the window, in percent; absent while unknown.</param>
/// <param name="BudgetRemainingPercent">Error budget left, in percent; absent while unknown.</param>
/// <param name="BurnRate">The burn rate over the short window; absent while unknown.</param>
/// <param name="State">ok, low, exhausted or unknown.</param>
/// <param name="EvaluatedAt">When it was last evaluated.</param>
/// <param name="Error">Why it is unknown.</param>
internal sealed record SloView(string Name, string? Service, double Objective, string Window, double? Sli, double? BudgetRemainingPercent, double? BurnRate, string State, DateTimeOffset? EvaluatedAt, string? Error)
{
    public static SloView Of(SloStatus status) => new(status.Name, status.Service, status.Objective, status.Window, status.Sli, status.BudgetRemainingPercent,
        status.BurnRate, status.State.ToString().ToLowerInvariant(), status.EvaluatedAt, status.Error);
}
