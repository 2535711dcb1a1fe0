namespace RunbookEngine.Slos;

/// <summary>An SLO's latest evaluation, as this node last made it.</summary>
/// <param name="Name">The SLO's name.</param>
/// <param name="Service">Its service label value, if configured.</param>
/// <param name="Objective">The objective in percent (99.9).</param>
/// <param name="Window">Its window as configured (28d).</param>
/// <param name="State">Where its budget stands.</param>
/// <param name="Sli">The share of good events over the window in percent, when known.</param>
/// <param name="BudgetRemainingPercent">The share of the error budget left in percent (negative once overspent), when known.</param>
/// <param name="BurnRate">The burn rate over the short window, when known.</param>
/// <param name="EvaluatedAt">When it was last evaluated (whatever the outcome); null before the first evaluation.</param>
/// <param name="Error">Why it is unknown.</param>
public sealed record SloStatus(
    string Name,
    string? Service,
    double Objective,
    string Window,
    SloState State,
    double? Sli,
    double? BudgetRemainingPercent,
    double? BurnRate,
    DateTimeOffset? EvaluatedAt,
    string? Error);
