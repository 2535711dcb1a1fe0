using Microsoft.Extensions.DependencyInjection;
using RunbookEngine.Storage;

namespace RunbookEngine.Trust.GameDays;

/// <summary>Registers game days: their store and the runner that runs them on this node.</summary>
internal static class GameDayServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookGameDays(this IServiceCollection services)
    {
        services.AddSingleton<IGameDayStore>(provider => (IGameDayStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton<GameDayRunner>();
        services.AddHostedService(provider => provider.GetRequiredService<GameDayRunner>());
        return services;
    }
}
