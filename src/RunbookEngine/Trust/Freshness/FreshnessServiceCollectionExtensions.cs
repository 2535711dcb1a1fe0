using Microsoft.Extensions.DependencyInjection;

namespace RunbookEngine.Trust.Freshness;

/// <summary>Registers freshness: its reader, and checks of its thresholds at start.</summary>
internal static class FreshnessServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookFreshness(this IServiceCollection services)
    {
        services.AddOptions<RunbookEngineOptions>()
            .Validate(o => o.Trust.Freshness.AgingAfter > TimeSpan.Zero, "RunbookEngine:Trust:Freshness:AgingAfter must be positive (e.g. 30.00:00:00)")
            .Validate(o => o.Trust.Freshness.StaleAfter >= o.Trust.Freshness.AgingAfter, "RunbookEngine:Trust:Freshness:StaleAfter must be at least AgingAfter (e.g. 90.00:00:00 with AgingAfter 30.00:00:00)")
            .Validate(o => o.Trust.Freshness.ReviewWarning >= TimeSpan.Zero, "RunbookEngine:Trust:Freshness:ReviewWarning must be 0 or more (e.g. 14.00:00:00)");
        services.AddSingleton<FreshnessReader>();
        return services;
    }
}
