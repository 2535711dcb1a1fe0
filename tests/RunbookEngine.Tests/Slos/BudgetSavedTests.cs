using RunbookEngine.Slos;

namespace RunbookEngine.Tests.Slos;

public sealed class BudgetSavedTests
{
    // The README's worked example: 99.9% over 28 days is 40.32 budget minutes. The service failed 3.6% of requests
    // (burn rate 36); the runbook remediated in 3 minutes where a person takes 20: 36 × 0.001 × 17 = 0.612 minutes.
    [Fact]
    public void Estimate_OfTheReadmeExample_MatchesTheHandCalculation()
    {
        var saved = BudgetSaved.Estimate(TimeSpan.FromMinutes(3), 20, 36, 0.999, TimeSpan.FromDays(28));

        Assert.Equal(17, saved.MinutesFaster, 9);
        Assert.Equal(0.612, saved.BudgetMinutes, 9);
        Assert.Equal(40.32, saved.WindowBudgetMinutes, 9);
        Assert.Equal(0.612 / 40.32, saved.ShareOfBudget, 9);
    }

    [Fact]
    public void Estimate_OfATotalOutage_SavesTheOutageMinutesAvoided()
    {
        // Every request failing is an error ratio of 1, a burn rate of 1 / (1 − objective).
        var saved = BudgetSaved.Estimate(TimeSpan.FromMinutes(2), 12, 1 / (1 - 0.995), 0.995, TimeSpan.FromDays(30));

        Assert.Equal(10, saved.BudgetMinutes, 9);
    }

    [Theory]
    [InlineData(25, 20, 36)]
    [InlineData(3, 20, 0)]
    public void Estimate_SavesNothing_WhenSlowerThanByHandOrNotBurning(double remediateMinutes, double manualMinutes, double burnRate)
    {
        var saved = BudgetSaved.Estimate(TimeSpan.FromMinutes(remediateMinutes), manualMinutes, burnRate, 0.999, TimeSpan.FromDays(28));

        Assert.Equal(0, saved.BudgetMinutes);
    }

    [Theory]
    [InlineData(-1, 20, 1, 0.999, 28, "timeToRemediate", "the time to remediate cannot be negative")]
    [InlineData(3, -1, 1, 0.999, 28, "manualMinutes", "manual_minutes must be a number of minutes, 0 or more")]
    [InlineData(3, 20, double.NaN, 0.999, 28, "burnRate", "the burn rate must be a number, 0 or more (an unknown burn rate saves nothing that can be counted)")]
    [InlineData(3, 20, 1, 1.0, 28, "objective", "the objective is a ratio above 0 and below 1, e.g. 0.999 for 99.9%")]
    [InlineData(3, 20, 1, 99.9, 28, "objective", "the objective is a ratio above 0 and below 1, e.g. 0.999 for 99.9%")]
    [InlineData(3, 20, 1, 0.999, 0, "window", "the SLO's window must be positive")]
    public void Estimate_OfBadInput_SaysWhichAndWhy(double remediateMinutes, double manualMinutes, double burnRate, double objective, double windowDays, string parameter, string message)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            BudgetSaved.Estimate(TimeSpan.FromMinutes(remediateMinutes), manualMinutes, burnRate, objective, TimeSpan.FromDays(windowDays)));

        Assert.Equal(parameter, error.ParamName);
        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
