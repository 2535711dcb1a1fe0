using RunbookEngine.Slos;

namespace RunbookEngine.Tests.Slos;

public sealed class ErrorBudgetTests
{
    // By hand: 99.9% leaves 0.1% of events to fail. 0.05% failed: half the budget is spent, and burning at 0.05% spends
    // it at half the sustainable pace.
    [Theory]
    [InlineData(0.9995, 0.999, 0.5)]
    [InlineData(0.99905, 0.999, 0.05)]
    [InlineData(1.0, 0.999, 1.0)]
    [InlineData(0.999, 0.999, 0.0)]
    [InlineData(0.998, 0.999, -1.0)]
    [InlineData(0.97, 0.99, -2.0)]
    public void Remaining_IsOneLessTheErrorsOverTheBudget(double sli, double objective, double expected)
    {
        Assert.Equal(expected, ErrorBudget.Remaining(sli, objective), 9);
    }

    [Theory]
    [InlineData(0.0005, 0.999, 0.5)]
    [InlineData(0.0144, 0.999, 14.4)]
    [InlineData(0, 0.999, 0)]
    [InlineData(1, 0.99, 100)]
    public void BurnRate_IsTheErrorRatioOverTheBudgetRatio(double errors, double objective, double expected)
    {
        Assert.Equal(expected, ErrorBudget.BurnRate(errors, objective), 9);
    }

    [Theory]
    [InlineData(0.5, 0.25, SloState.Ok)]
    [InlineData(0.25, 0.25, SloState.Ok)]
    [InlineData(0.2499, 0.25, SloState.Low)]
    [InlineData(0.0001, 0.25, SloState.Low)]
    [InlineData(0, 0.25, SloState.Exhausted)]
    [InlineData(-1, 0.25, SloState.Exhausted)]
    public void StateOf_ReadsTheBudgetLeft(double remaining, double lowBelow, SloState expected)
    {
        Assert.Equal(expected, ErrorBudget.StateOf(remaining, lowBelow));
    }
}
