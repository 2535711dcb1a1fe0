namespace RunbookEngine.Slos;

/// <summary>
/// One service level objective, an item of the <c>RunbookEngine:Slos</c> list. Its SLI comes from Prometheus: either a
/// <see cref="Good"/> and <see cref="Total"/> pair of queries or one <see cref="ErrorRatio"/> query, each with
/// <c>$window</c> where the range goes (the SLO's window, or the burn-rate window).
/// </summary>
public sealed class SloOptions
{
    /// <summary>The SLO's name, which a runbook's <c>budget_gate: { slo: ... }</c> names. Required, unique.</summary>
    public string Name { get; set; } = "";

    /// <summary>The service it is about: the value of its <c>service</c> label, for people and the incident timeline.</summary>
    public string? Service { get; set; }

    /// <summary>The objective in percent, e.g. <c>99.9</c>: above 0 and below 100. Required.</summary>
    public double Objective { get; set; }

    /// <summary>The window the SLI and the budget are computed over, e.g. <c>28d</c>. Default <c>28d</c>.</summary>
    public string Window { get; set; } = "28d";

    /// <summary>PromQL for the good events' rate over <c>$window</c>, e.g. <c>sum(rate(http_requests_total{code!~"5.."}[$window]))</c>.</summary>
    public string? Good { get; set; }

    /// <summary>PromQL for all events' rate over <c>$window</c>, e.g. <c>sum(rate(http_requests_total[$window]))</c>.</summary>
    public string? Total { get; set; }

    /// <summary>Instead of Good and Total: PromQL for the ratio of bad events to all over <c>$window</c> (0 to 1).</summary>
    public string? ErrorRatio { get; set; }

    /// <summary>Below this share of the budget left, in percent, the SLO's state is <c>low</c>. Default 25.</summary>
    public double LowBelow { get; set; } = 25;
}
