namespace RunbookEngine.Slos;

/// <summary>The Prometheus the SLOs are read from, and how often, section <c>RunbookEngine:Prometheus</c>.</summary>
public sealed class PrometheusOptions
{
    /// <summary>The Prometheus HTTP API's base address, e.g. <c>http://prometheus:9090/</c>. Required when SLOs are configured.</summary>
    public string? Url { get; set; }

    /// <summary>How long one query may take before the SLO is unknown. Default 10 s.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How often every node evaluates every SLO. Default 1 min.</summary>
    public TimeSpan EvaluationInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The short window the burn rate is measured over. Default 1 h.</summary>
    public TimeSpan BurnRateWindow { get; set; } = TimeSpan.FromHours(1);
}
