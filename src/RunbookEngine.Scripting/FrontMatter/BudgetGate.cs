using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.FrontMatter;

/// <summary>
/// A runbook's <c>budget_gate:</c>: when the named SLO's remaining error budget is below the threshold (or unknown), an
/// alert-started run acts as <see cref="Then"/> instead of its own mode.
/// </summary>
/// <param name="Slo">The SLO's name, as configured under <c>RunbookEngine:Slos</c>.</param>
/// <param name="BelowPercent">The threshold, in percent of the budget (0 to 100, exclusive of 0).</param>
/// <param name="Then">What the run does below it: <see cref="RunMode.Confirm"/> (ask first) or <see cref="RunMode.Shadow"/> (only propose).</param>
public sealed record BudgetGate(string Slo, double BelowPercent, RunMode Then)
{
    /// <summary>How long a gated run waits for its approval when <c>confirm:</c> gives no <c>timeout</c>.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    /// <summary>
    /// <c>budget_gate.timeout</c>: how long a run the gate made ask first waits for an answer when its <c>confirm:</c>
    /// gives no deadline; unanswered by then, it fails as on a confirm deadline. A gated run holds its concurrency key
    /// while it waits, so it must not wait for ever.
    /// </summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;
}
