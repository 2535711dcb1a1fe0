using Microsoft.Extensions.DependencyInjection;
using RunbookEngine.Storage;

namespace RunbookEngine.Retention;

/// <summary>Registers the retention of run history.</summary>
internal static class RetentionServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookRetention(this IServiceCollection services)
    {
        services.AddSingleton<IRetentionStore>(provider => (IRetentionStore)provider.GetRequiredService<IRunStore>());
        services.AddSingleton<RunHistoryRetention>();
        services.AddHostedService(provider => provider.GetRequiredService<RunHistoryRetention>());
        return services;
    }
}
