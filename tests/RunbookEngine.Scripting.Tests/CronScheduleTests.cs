using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Scripting.Tests;

public sealed class CronScheduleTests
{
    [Theory]
    [InlineData("0 */6 * * *", "0 0 0,6,12,18 * * ?")]
    [InlineData("*/15 9-17 * * MON-FRI", "0 0,15,30,45 9,10,11,12,13,14,15,16,17 ? * MON,TUE,WED,THU,FRI")]
    [InlineData("30 2 1 * *", "0 30 2 1 * ?")]
    [InlineData("0 0 * * 7", "0 0 0 ? * SUN")]
    [InlineData("@daily", "0 0 0 * * ?")]
    [InlineData("0 8 * jan,jul *", "0 0 8 * 1,7 ?")]
    public void ToQuartzExpression_KeepsTheMeaning(string cron, string quartz)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out var error), error);
        Assert.Equal(quartz, schedule!.ToQuartzExpression());
    }

    [Theory]
    [InlineData("0 */6 * * *", "2026-11-23T07:10:00Z", "2026-11-23T12:00:00Z")]
    [InlineData("30 2 1 * *", "2026-11-23T07:10:00Z", "2026-12-01T02:30:00Z")]
    [InlineData("0 9 * * MON", "2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    public void NextOccurrence_FindsTheNextMatchingMinute(string cron, string after, string expected)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out _));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), schedule!.NextOccurrence(DateTimeOffset.Parse(after, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("@sometimes", "'@sometimes' is not a known macro; use @hourly, @daily, @weekly, @monthly or @yearly")]
    [InlineData("0 25 * * *", "hour '25' is out of range 0-23")]
    [InlineData("0 0 * * FUNDAY", "day-of-week 'FUNDAY' is not a number or a name such as MON")]
    [InlineData("*/0 * * * *", "minute '*/0': the step after '/' must be a positive number")]
    [InlineData("0 10-2 * * *", "hour '10-2': the range 10-2 runs backwards")]
    public void TryParse_ExplainsWhatIsWrong(string cron, string expected)
    {
        Assert.False(CronSchedule.TryParse(cron, out _, out var error));
        Assert.Equal(expected, error);
    }
}
