using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using RunbookEngine.Scheduling;
using RunbookEngine.Telemetry;
using Serilog;
using Serilog.Formatting.Compact;

namespace RunbookEngine.Host.Telemetry;

/// <summary>The host's logs (Serilog) and traces (OpenTelemetry over OTLP), from <c>RunbookEngine:Telemetry</c> and <c>Serilog</c>.</summary>
internal static class HostTelemetry
{
    private const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}";

    /// <summary>
    /// Serilog from the <c>Serilog</c> section (levels, enrichers, any extra sinks), plus the console in the format
    /// <c>LogFormat</c> names and, when <c>LogFile</c> is set, a compact JSON file.
    /// </summary>
    public static WebApplicationBuilder AddRunbookLogging(this WebApplicationBuilder builder)
    {
        var telemetry = Read(builder.Configuration);
        builder.Services.AddSerilog((services, logger) =>
        {
            logger.ReadFrom.Configuration(builder.Configuration).ReadFrom.Services(services);

            // Whatever levels the configuration sets, a webhook's query token never reaches a log.
            logger.Enrich.With(new QueryTokenRedaction());

            // A value that is not text, json or none is reported by the options' validation at start; until then the
            // console stays readable rather than silent.
            if (telemetry.LogFormat == "json")
            {
                logger.WriteTo.Console(new CompactJsonFormatter());
            }
            else if (telemetry.LogFormat != "none")
            {
                logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: System.Globalization.CultureInfo.InvariantCulture);
            }

            if (telemetry.LogFile is { Length: > 0 } file)
            {
                logger.WriteTo.File(new CompactJsonFormatter(), file, fileSizeLimitBytes: 100L * 1024 * 1024, rollOnFileSizeLimit: true, retainedFileCountLimit: 10);
            }
        });
        return builder;
    }

    /// <summary>
    /// Traces of webhooks, alert matching, runs and steps, exported over OTLP when an endpoint is configured
    /// (<c>RunbookEngine:Telemetry:OtlpEndpoint</c>, else the standard <c>OTEL_EXPORTER_OTLP_*</c> variables); with
    /// none, nothing listens and the engine's spans cost nothing.
    /// </summary>
    public static WebApplicationBuilder AddRunbookTracing(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var telemetry = Read(configuration);
        if (!Exporting(configuration, telemetry, out var configured))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(telemetry.ServiceName, serviceVersion: typeof(RunTracingVersion).Assembly.GetName().Version?.ToString(), autoGenerateServiceInstanceId: false)
                .AddDetector(services => new NodeDetector(services.GetRequiredService<NodeIdentity>())))
            .WithTracing(tracing => tracing
                .AddRunSpans(telemetry, configured)
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsProbe(http.Request.Path)));
        return builder;
    }

    /// <summary>
    /// How long a run's process waits for its spans to leave before it reports its result. The OTLP exporter gives an
    /// export 10 s; a fresh process's first export (JIT, connection) on a busy machine took more than 5 s, which lost
    /// the steps' spans, so the wait covers a whole export. It only delays a result when the collector is slow.
    /// </summary>
    public const int ChildFlushMilliseconds = 15_000;

    /// <summary>
    /// The tracing of a run's process (<c>isolation: process</c>): the same spans, settings and exporter as the host's,
    /// so its steps join the run's trace. Null when the host exports no traces. Disposing it flushes what is left.
    /// </summary>
    /// <param name="configuration">The configuration the run's process was started with.</param>
    /// <returns>The provider, or null.</returns>
    public static TracerProvider? ChildRunTracing(IConfiguration configuration)
    {
        var telemetry = Read(configuration);
        if (!Exporting(configuration, telemetry, out var configured))
        {
            return null;
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(telemetry.ServiceName, serviceVersion: typeof(RunTracingVersion).Assembly.GetName().Version?.ToString(), autoGenerateServiceInstanceId: false);
        if (configuration[$"{RunbookEngineOptions.Section}:NodeId"] is { Length: > 0 } node)
        {
            resource.AddAttributes([new KeyValuePair<string, object>("service.instance.id", node)]);
        }

        return global::OpenTelemetry.Sdk.CreateTracerProviderBuilder()
            .SetResourceBuilder(resource)
            .AddRunSpans(telemetry, configured)
            .Build();
    }

    /// <summary>The engine's spans and HttpClient's, exported over OTLP: one code path for the host and a run's process.</summary>
    private static TracerProviderBuilder AddRunSpans(this TracerProviderBuilder tracing, TelemetryOptions telemetry, string? configured) => tracing
        .AddSource(TelemetryOptions.ActivitySourceName)
        // HttpClient's own spans (a runbook calling an API), children of the step that made the call.
        .AddSource("System.Net.Http")
        .AddOtlpExporter(o =>
        {
            if (configured is null)
            {
                return;
            }

            o.Protocol = telemetry.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
            o.Endpoint = o.Protocol == OtlpExportProtocol.Grpc ? new Uri(configured) : TracesPath(new Uri(configured));
        });

    /// <summary>Whether traces are exported: to the configured endpoint (returned), else to the standard variables'.</summary>
    private static bool Exporting(IConfiguration configuration, TelemetryOptions telemetry, out string? configured)
    {
        configured = telemetry.OtlpEndpoint is { Length: > 0 } endpoint && telemetry.Problems().Count == 0 ? endpoint : null;
        return configured is not null || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) || !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]);
    }

    private static TelemetryOptions Read(IConfiguration configuration) =>
        configuration.GetSection($"{RunbookEngineOptions.Section}:Telemetry").Get<TelemetryOptions>() ?? new TelemetryOptions();

    // Probes and scrapes every few seconds would bury the spans that matter.
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");

    /// <summary>
    /// The exporter uses an endpoint set in code as is, while the standard variable is a base to which the signal's path
    /// is added; ours is a base too, like the variable, so the same address works in both places.
    /// </summary>
    private static Uri TracesPath(Uri endpoint) =>
        endpoint.AbsolutePath.EndsWith("/v1/traces", StringComparison.Ordinal) ? endpoint : new Uri(endpoint, endpoint.AbsolutePath.TrimEnd('/') + "/v1/traces");

    /// <summary>Names the node on every span, as <c>service.instance.id</c>.</summary>
    private sealed class NodeDetector(NodeIdentity node) : IResourceDetector
    {
        public Resource Detect() => new([new KeyValuePair<string, object>("service.instance.id", node.Id)]);
    }

    // Only for the assembly's version.
    private sealed class RunTracingVersion;
}
