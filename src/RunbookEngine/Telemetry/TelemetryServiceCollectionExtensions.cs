using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Telemetry;

/// <summary>Registers the engine's traces.</summary>
internal static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// Validates the telemetry settings at start. The engine itself only emits spans through
    /// <see cref="RunTracing.Source"/>; the host decides whether anything listens and where spans go.
    /// </summary>
    public static IServiceCollection AddRunbookTelemetry(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<RunbookEngineOptions>, TelemetryValidation>();
        return services;
    }

    private sealed class TelemetryValidation : IValidateOptions<RunbookEngineOptions>
    {
        public ValidateOptionsResult Validate(string? name, RunbookEngineOptions options) =>
            options.Telemetry.Problems() is { Count: > 0 } problems ? ValidateOptionsResult.Fail(problems) : ValidateOptionsResult.Success;
    }
}
