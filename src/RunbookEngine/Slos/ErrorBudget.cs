namespace RunbookEngine.Slos;

/// <summary>The error-budget arithmetic, on ratios (an objective of 99.9% is 0.999).</summary>
public static class ErrorBudget
{
    /// <summary>The share of the window's error budget left: 1 − (1 − SLI) / (1 − objective); below 0 once overspent.</summary>
    /// <param name="sli">The share of good events over the window, 0 to 1.</param>
    /// <param name="objective">The objective, 0 to 1 exclusive.</param>
    /// <returns>1 with no errors, 0 with exactly the budget spent, negative beyond it.</returns>
    public static double Remaining(double sli, double objective) => 1 - ((1 - sli) / (1 - objective));

    /// <summary>How fast the budget burns: the error ratio over a short window divided by the budget's ratio.</summary>
    /// <param name="errorRatio">The share of bad events over the short window, 0 to 1.</param>
    /// <param name="objective">The objective, 0 to 1 exclusive.</param>
    /// <returns>1 spends the budget exactly over the SLO's window; 14.4 spends a 30-day budget's 2% in an hour.</returns>
    public static double BurnRate(double errorRatio, double objective) => errorRatio / (1 - objective);

    /// <summary>The state a known budget is in.</summary>
    /// <param name="remaining">The share left (see <see cref="Remaining"/>).</param>
    /// <param name="lowBelow">The share below which it is low, 0 to 1.</param>
    /// <returns>Exhausted at or below nothing left, low below the threshold, else ok.</returns>
    public static SloState StateOf(double remaining, double lowBelow) =>
        remaining <= 0 ? SloState.Exhausted : remaining < lowBelow ? SloState.Low : SloState.Ok;
}
