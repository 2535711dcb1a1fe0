using System.Globalization;
using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Scripting.Tests;

public sealed class CronScheduleTests
{
    [Theory]
    [InlineData("*/5 * * * *", "2026-11-23T07:10:00Z", "2026-11-23T07:15:00Z")]
    [InlineData("*/5 * * * *", "2026-11-23T07:12:30Z", "2026-11-23T07:15:00Z")]
    [InlineData("0 */6 * * *", "2026-11-23T07:10:00Z", "2026-11-23T12:00:00Z")]
    [InlineData("30 9 * * MON-FRI", "2026-11-27T09:30:00Z", "2026-11-30T09:30:00Z")]
    [InlineData("0 9 * * MON", "2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z")]
    [InlineData("0 0 * * 7", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00Z")]
    [InlineData("30 2 1 * *", "2026-11-23T07:10:00Z", "2026-12-01T02:30:00Z")]
    [InlineData("59 23 31 * *", "2026-12-31T23:59:00Z", "2027-01-31T23:59:00Z")]
    [InlineData("0 0 1 JAN *", "2026-11-23T07:10:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("0 0 29 2 *", "2026-03-01T00:00:00Z", "2028-02-29T00:00:00Z")]
    [InlineData("@hourly", "2026-12-31T23:00:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("@every_minute", "2026-11-23T07:10:59Z", "2026-11-23T07:11:00Z")]
    [InlineData("@weekly", "2026-11-23T07:10:00Z", "2026-11-29T00:00:00Z")]
    [InlineData("@yearly", "2026-11-23T07:10:00Z", "2027-01-01T00:00:00Z")]
    [InlineData("0 0 L * *", "2027-02-01T00:00:00Z", "2027-02-28T00:00:00Z")]
    [InlineData("0 0 * * 5L", "2026-11-01T00:00:00Z", "2026-11-27T00:00:00Z")]
    [InlineData("0 0 * * MON#1", "2026-11-23T00:00:00Z", "2026-12-07T00:00:00Z")]
    [InlineData("0 0 15W * *", "2026-11-01T00:00:00Z", "2026-11-16T00:00:00Z")]
    [InlineData("0 22-2 * * *", "2026-11-23T02:00:00Z", "2026-11-23T22:00:00Z")]
    public void NextOccurrence_FindsTheNextMatchingMinute(string cron, string after, string expected)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out var error), error);

        Assert.Equal(At(expected), schedule!.NextOccurrence(At(after)));
    }

    [Fact]
    public void NextOccurrence_IsInUtcWhateverTheOffsetOfTheTimeGiven()
    {
        Assert.True(CronSchedule.TryParse("0 9 * * *", out var schedule, out _));

        var next = schedule!.NextOccurrence(new DateTimeOffset(2026, 3, 29, 10, 0, 0, TimeSpan.FromHours(2)));

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 9, 0, 0, TimeSpan.Zero), next);
        Assert.Equal(TimeSpan.Zero, next!.Value.Offset);
    }

    [Fact]
    public void NextOccurrence_OfADateNoMonthHas_IsNull()
    {
        Assert.True(CronSchedule.TryParse("0 0 30 2 *", out var schedule, out _));

        Assert.Null(schedule!.NextOccurrence(DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [InlineData(" 0 0 * * * ", "0 0 * * *")]
    [InlineData("0\t0  *  * *", "0\t0  *  * *")]
    [InlineData("@Daily", "@Daily")]
    public void TryParse_KeepsTheExpressionAsWritten(string cron, string expected)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out var error), error);
        Assert.Equal(expected, schedule!.Expression);
        Assert.Equal(expected, schedule.ToString());
    }

    [Theory]
    [InlineData("@sometimes", "'@sometimes' is not a known macro; use @hourly, @daily, @weekly, @monthly or @yearly")]
    [InlineData("@every_second", "'@every_second' fires every second; a schedule fires at most once a minute, e.g. \"* * * * *\"")]
    [InlineData("0 */6 * *", "'0 */6 * *' has 4 fields; a schedule has 5: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"")]
    [InlineData("0 0 0 */6 * * *", "'0 0 0 */6 * * *' has 7 fields; a schedule has 5: minute hour day-of-month month day-of-week, e.g. \"0 */6 * * *\"")]
    [InlineData("0 25 * * *", "hour '25' in '0 25 * * *' must be a number from 0 to 23")]
    [InlineData("0 0 32 * *", "day-of-month '32' in '0 0 32 * *' must be a number from 1 to 31")]
    [InlineData("0 0 * 13 *", "month '13' in '0 0 * 13 *' must be a number from 1 to 12 or a name such as JAN")]
    [InlineData("0 0 * * FUNDAY", "day-of-week 'FUNDAY' in '0 0 * * FUNDAY' must be a number from 0 to 7 or a name such as MON")]
    [InlineData("0 0 * * MONDAY", "day-of-week 'MONDAY' in '0 0 * * MONDAY': unexpected character 'D'")]
    [InlineData("5x * * * *", "minute '5x' in '5x * * * *': unexpected character 'x'")]
    [InlineData("*/0 * * * *", "minute '*/0': the step after '/' must be a positive number")]
    [InlineData("0 1,2/0 * * *", "hour '1,2/0': the step after '/' must be a positive number")]
    [InlineData("H * * * *", "'H * * * *' uses H (a value chosen by hashing), which needs a seed the scheduler does not give; write the value, e.g. \"17 * * * *\"")]
    [InlineData("0 0 1 * MON", "'0 0 1 * MON' restricts both day-of-month and day-of-week; set one of them to *")]
    public void TryParse_ExplainsWhatIsWrong(string cron, string expected)
    {
        Assert.False(CronSchedule.TryParse(cron, out var schedule, out var error));
        Assert.Null(schedule);
        Assert.Equal(expected, error);
    }

    [Theory]
    [InlineData("*/5 * * * *", "*/5 * * * *")]
    [InlineData("0\t*/6  * * *", "0 */6 * * *")]
    [InlineData("@daily", "0 0 * * *")]
    [InlineData("@weekly", "0 0 * * 0")]
    [InlineData("@monthly", "0 0 1 * *")]
    [InlineData("@yearly", "0 0 1 1 *")]
    [InlineData("@every_minute", "* * * * *")]
    public void ToCronosExpression_GivesTheSchedulerTheFiveFieldsCronosRead(string cron, string expected)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out var error), error);
        Assert.Equal(expected, schedule!.ToCronosExpression());
    }

    private static DateTimeOffset At(string text) => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture);
}
