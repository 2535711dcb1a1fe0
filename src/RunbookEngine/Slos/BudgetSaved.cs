namespace RunbookEngine.Slos;

/// <summary>
/// The error budget an automated remediation saved, estimated: while the service burned its budget at
/// <c>burnRate</c>, the run ended the problem after <c>timeToRemediate</c> instead of the <c>manual_minutes</c> a person
/// would have taken. Each minute of burning at rate b spends b × (1 − objective) minutes of error budget, so
/// saved = b × (1 − objective) × max(0, manual_minutes − time to remediate). At a total outage (error ratio 1) that is
/// exactly the outage minutes avoided.
/// </summary>
public static class BudgetSaved
{
    /// <summary>Estimates the budget saved by one remediation.</summary>
    /// <param name="timeToRemediate">How long the automation took to remediate, measured (alert received to the remediation's end).</param>
    /// <param name="manualMinutes">The runbook's <c>manual_minutes</c>: how long a person takes for the same.</param>
    /// <param name="burnRate">The SLO's burn rate while the service was burning (0 when it was not: nothing is saved).</param>
    /// <param name="objective">The SLO's objective as a ratio (0.999).</param>
    /// <param name="window">The SLO's window, to say what share of its budget the saving is.</param>
    /// <returns>The saving in budget minutes and as a share of the window's budget.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative duration or burn rate, or an objective outside (0, 1).</exception>
    public static BudgetSavedEstimate Estimate(TimeSpan timeToRemediate, double manualMinutes, double burnRate, double objective, TimeSpan window)
    {
        if (timeToRemediate < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(timeToRemediate), timeToRemediate, "the time to remediate cannot be negative");
        }

        if (!(manualMinutes >= 0) || double.IsInfinity(manualMinutes))
        {
            throw new ArgumentOutOfRangeException(nameof(manualMinutes), manualMinutes, "manual_minutes must be a number of minutes, 0 or more");
        }

        if (!(burnRate >= 0) || double.IsInfinity(burnRate))
        {
            throw new ArgumentOutOfRangeException(nameof(burnRate), burnRate, "the burn rate must be a number, 0 or more (an unknown burn rate saves nothing that can be counted)");
        }

        if (!(objective > 0 && objective < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(objective), objective, "the objective is a ratio above 0 and below 1, e.g. 0.999 for 99.9%");
        }

        if (window <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "the SLO's window must be positive");
        }

        var faster = Math.Max(0, manualMinutes - timeToRemediate.TotalMinutes);
        var saved = burnRate * (1 - objective) * faster;
        var budget = (1 - objective) * window.TotalMinutes;
        return new BudgetSavedEstimate(faster, saved, budget, saved / budget);
    }
}

/// <summary>What <see cref="BudgetSaved.Estimate"/> found.</summary>
/// <param name="MinutesFaster">How many minutes sooner than by hand the remediation ended (0 when it was slower).</param>
/// <param name="BudgetMinutes">The error-budget minutes saved.</param>
/// <param name="WindowBudgetMinutes">The SLO's whole budget over its window, in minutes: (1 − objective) × window.</param>
/// <param name="ShareOfBudget">The saving as a share of that budget, 0 to 1 (or more).</param>
public sealed record BudgetSavedEstimate(double MinutesFaster, double BudgetMinutes, double WindowBudgetMinutes, double ShareOfBudget);
