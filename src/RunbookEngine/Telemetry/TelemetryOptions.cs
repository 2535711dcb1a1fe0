namespace RunbookEngine.Telemetry;

/// <summary>Traces, section <c>RunbookEngine:Telemetry</c>.</summary>
public sealed class TelemetryOptions
{
}
