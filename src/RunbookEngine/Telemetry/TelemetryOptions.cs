namespace RunbookEngine.Telemetry;

/// <summary>Traces and logs, section <c>RunbookEngine:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
    /// <summary>The <see cref="System.Diagnostics.ActivitySource"/> name of the engine's spans (webhooks, alerts, runs, steps).</summary>
    public const string ActivitySourceName = "RunbookEngine";

    /// <summary>
    /// Where traces go over OTLP, e.g. <c>http://127.0.0.1:4318</c> (the collector's base address; <c>/v1/traces</c> is
    /// added for <c>http/protobuf</c>). Default none: then the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (or
    /// <c>OTEL_EXPORTER_OTLP_TRACES_ENDPOINT</c>) is used if set, and with neither no traces are recorded.
    /// </summary>
    public string? OtlpEndpoint { get; set; }

    /// <summary><c>http/protobuf</c> (default, port 4318) or <c>grpc</c> (port 4317), for <see cref="OtlpEndpoint"/>.</summary>
    public string OtlpProtocol { get; set; } = "http/protobuf";

    /// <summary>The <c>service.name</c> of every span. Default <c>runbookengine</c>; <c>service.instance.id</c> is the node id.</summary>
    public string ServiceName { get; set; } = "runbookengine";

    /// <summary>
    /// The console's log format: <c>text</c> (default; one readable line per event with its properties),
    /// <c>json</c> (compact JSON, one event per line, for log collectors) or <c>none</c> (no console sink, when the
    /// <c>Serilog</c> section configures its own).
    /// </summary>
    public string LogFormat { get; set; } = "text";

    /// <summary>
    /// A file that also receives every log event as compact JSON, e.g. <c>data/logs/runbookengine.json</c>. Default
    /// none. It rolls over at 100 MB and keeps the last 10 files.
    /// </summary>
    public string? LogFile { get; set; }

    /// <summary>What is wrong with these settings, in words an operator can act on; empty when they are fine.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (LogFormat is not ("text" or "json" or "none"))
        {
            problems.Add($"RunbookEngine:Telemetry:LogFormat is '{LogFormat}'; use text, json or none");
        }

        if (OtlpProtocol is not ("http/protobuf" or "grpc"))
        {
            problems.Add($"RunbookEngine:Telemetry:OtlpProtocol is '{OtlpProtocol}'; use http/protobuf or grpc");
        }

        if (OtlpEndpoint is { Length: > 0 } endpoint && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            problems.Add($"RunbookEngine:Telemetry:OtlpEndpoint is '{endpoint}'; give an http:// or https:// address such as http://127.0.0.1:4318");
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            problems.Add("RunbookEngine:Telemetry:ServiceName must not be empty");
        }

        return problems;
    }
}
