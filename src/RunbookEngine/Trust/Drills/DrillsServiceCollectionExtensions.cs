using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace RunbookEngine.Trust.Drills;

/// <summary>Registers drills: the runner the API and the recurring jobs share, the job Hangfire activates, the schedule sync's helper.</summary>
internal static class DrillsServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookDrills(this IServiceCollection services)
    {
        services.AddSingleton<DrillRunner>();
        services.AddSingleton<DrillSchedules>();
        services.AddTransient(provider => new DrillJob(provider.GetRequiredService<DrillRunner>(), provider.GetRequiredService<ILogger<DrillJob>>()));
        return services;
    }
}
