using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Slos;

/// <summary>Registers the SLOs: their validation, the evaluator, the budgets the gates read, and their gauges.</summary>
internal static class SloServiceCollectionExtensions
{
    public static IServiceCollection AddRunbookSlos(this IServiceCollection services)
    {
        services.AddSingleton<IValidateOptions<RunbookEngineOptions>, SloValidation>();
        // Redirects are refused: a Prometheus behind a sign-in page would otherwise answer its HTML as if it were data.
        services.AddHttpClient(PrometheusClient.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new System.Net.Http.SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false });
        services.AddSingleton<SloBudgets>();
        services.AddSingleton<SloEvaluator>();
        services.AddHostedService(provider => provider.GetRequiredService<SloEvaluator>());
        // Read before each scrape through EngineMetrics, which owns the registry's callbacks.
        services.AddSingleton(provider => new SloMetrics(provider.GetRequiredService<Prometheus.CollectorRegistry>()));
        return services;
    }
}
