using System.Text.Json;
using System.Text.Json.Serialization;

namespace RunbookEngine.Slos;

/// <summary>
/// What a runbook's budget gate decided for one alert-started run, kept on the run (<c>runbook_runs.budget_gate</c>) as
/// JSON, so the run page, the API and an incident's timeline show the decision with the figure it was made on.
/// </summary>
/// <param name="Slo">The SLO the gate reads.</param>
/// <param name="State">The SLO's state when the run was queued: ok, low, exhausted or unknown.</param>
/// <param name="BudgetRemainingPercent">The share of its error budget left then, in percent; null when unknown.</param>
/// <param name="BelowPercent">The gate's threshold, in percent.</param>
/// <param name="Then">What the gate does below the threshold: confirm or shadow.</param>
/// <param name="Gated">Whether the run acts as <paramref name="Then"/>: the budget was below the threshold, or unknown.</param>
/// <param name="EvaluatedAt">When the figure was evaluated; null when it never was.</param>
/// <param name="DecidedAt">When the run was queued and the gate decided.</param>
/// <param name="Reason">The decision in one sentence, for people.</param>
public sealed record BudgetGateDecision(
    string Slo,
    string State,
    double? BudgetRemainingPercent,
    double BelowPercent,
    string Then,
    bool Gated,
    DateTimeOffset? EvaluatedAt,
    DateTimeOffset DecidedAt,
    string Reason)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    /// <summary>
    /// Of two decisions on one run (a retry's inherited one and its own), the one that holds it more: gated over not,
    /// shadow over confirm; the earlier one when they hold it alike.
    /// </summary>
    /// <param name="earlier">The decision inherited, or null.</param>
    /// <param name="now">The decision made now.</param>
    /// <returns>The stricter.</returns>
    public static BudgetGateDecision Stricter(BudgetGateDecision? earlier, BudgetGateDecision now)
    {
        ArgumentNullException.ThrowIfNull(now);
        return earlier is null || Strictness(now) > Strictness(earlier) ? now : earlier;
    }

    private static int Strictness(BudgetGateDecision decision) => !decision.Gated ? 0 : decision.Then == "shadow" ? 2 : 1;

    /// <summary>The decision as the store keeps it.</summary>
    /// <returns>JSON.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a decision the store kept.</summary>
    /// <param name="json">JSON from <see cref="ToJson"/>, or null.</param>
    /// <returns>The decision, or null.</returns>
    public static BudgetGateDecision? FromJson(string? json) => json is null ? null : JsonSerializer.Deserialize<BudgetGateDecision>(json, Json);
}
