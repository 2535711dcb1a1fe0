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
        var configured = telemetry.OtlpEndpoint is { Length: > 0 } endpoint && telemetry.Problems().Count == 0 ? endpoint : null;
        if (configured is null && string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]) && string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]))
        {
            return builder;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(telemetry.ServiceName, serviceVersion: typeof(RunTracingVersion).Assembly.GetName().Version?.ToString(), autoGenerateServiceInstanceId: false)
                .AddDetector(services => new NodeDetector(services.GetRequiredService<NodeIdentity>())))
            .WithTracing(tracing => tracing
                .AddSource(TelemetryOptions.ActivitySourceName)
                // HttpClient's own spans (a runbook calling an API), children of the step that made the call.
                .AddSource("System.Net.Http")
                .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsProbe(http.Request.Path))
                .AddOtlpExporter(o =>
                {
                    if (configured is null)
                    {
                        return;
                    }

                    o.Protocol = telemetry.OtlpProtocol == "grpc" ? OtlpExportProtocol.Grpc : OtlpExportProtocol.HttpProtobuf;
                    o.Endpoint = o.Protocol == OtlpExportProtocol.Grpc ? new Uri(configured) : TracesPath(new Uri(configured));
                }));
        return builder;
    }

    private static TelemetryOptions Read(ConfigurationManager configuration) =>
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
