using System.Text.RegularExpressions;
using Serilog.Core;
using Serilog.Events;

namespace RunbookEngine.Host.Telemetry;

/// <summary>
/// Blanks the <c>token</c> query parameter (a webhook credential, <c>RunbookEngine:Alerts:Sources:NAME:QueryToken</c>) in the
/// query strings ASP.NET Core logs with each request ("Request starting … ?token=…") when its level is lowered to Information.
/// Traces need nothing: the OpenTelemetry instrumentation already redacts every <c>url.query</c> value.
/// </summary>
internal sealed partial class QueryTokenRedaction : ILogEventEnricher
{
    public const string Redacted = "REDACTED";

    // The hosting log's property names; a property holding a full URL is covered too.
    private static readonly string[] Properties = ["QueryString", "Url", "RequestUrl"];

    public void Enrich(LogEvent logEvent, ILogEventPropertyFactory propertyFactory)
    {
        foreach (var name in Properties)
        {
            if (logEvent.Properties.TryGetValue(name, out var property) && property is ScalarValue { Value: string text } && Redact(text) is var redacted && redacted != text)
            {
                logEvent.AddOrUpdateProperty(new LogEventProperty(name, new ScalarValue(redacted)));
            }
        }
    }

    /// <summary>The text with the value of every <c>token</c> parameter replaced.</summary>
    public static string Redact(string text) => Token().Replace(text, "${name}=" + Redacted);

    [GeneratedRegex(@"(?<=[?&])(?<name>token)=[^&#\s]*", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Token();
}
