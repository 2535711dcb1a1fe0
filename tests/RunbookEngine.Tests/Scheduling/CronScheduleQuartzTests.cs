using System.Globalization;
using Quartz;
using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Tests.Scheduling;

/// <summary>
/// Until the move to Hangfire, Quartz fires schedules while Cronos shows and validates them: the rewritten Quartz
/// expression must fire exactly when Cronos says the schedule does.
/// </summary>
public sealed class CronScheduleQuartzTests
{
    [Theory]
    [InlineData("*/5 * * * *")]
    [InlineData("0 */6 * * *")]
    [InlineData("30 9 * * MON-FRI")]
    [InlineData("*/15 9-17 * * 1-5")]
    [InlineData("30 2 1 * *")]
    [InlineData("0 0 * * 7")]
    [InlineData("0 0 * * SAT,SUN")]
    [InlineData("0 12 * * FRI-MON")]
    [InlineData("0 12 * * 5-7")]
    [InlineData("0 12 * * */2")]
    [InlineData("0 12 * * 1-6/2")]
    [InlineData("0 12 * * 5/2")]
    [InlineData("0 12 * * 0-7")]
    [InlineData("0 12 * * 7-2")]
    [InlineData("0 12 * * SAT-TUE/2")]
    [InlineData("0 8 * jan,jul *")]
    [InlineData("0 8 1 JAN-MAR/2 *")]
    [InlineData("0 8 1 NOV-FEB *")]
    [InlineData("0 22-2 * * *")]
    [InlineData("0 20-4/3 * * *")]
    [InlineData("50-10/7 5/15 * * *")]
    [InlineData("0 0 29 2 *")]
    [InlineData("0 0 31 * *")]
    [InlineData("0 0 ? * *")]
    [InlineData("0 0 L * *")]
    [InlineData("0 0 L-3 * *")]
    [InlineData("0 0 LW * *")]
    [InlineData("0 0 L-3W * *")]
    [InlineData("0 0 1-31/10 * *")]
    [InlineData("0 0 1W * *")]
    [InlineData("0 0 15W * *")]
    [InlineData("0 0 * * 5L")]
    [InlineData("0 0 * * 0L")]
    [InlineData("0 0 * * MON#1")]
    [InlineData("0 0 * * FRI#5")]
    [InlineData("@hourly")]
    [InlineData("@daily")]
    [InlineData("@weekly")]
    [InlineData("@monthly")]
    [InlineData("@yearly")]
    [InlineData("@every_minute")]
    public void QuartzFiresWhenCronosSays(string cron)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out var error), error);
        var quartz = new CronExpression(schedule!.ToQuartzExpression(), TimeZoneInfo.Utc);

        var cronos = DateTimeOffset.Parse("2026-11-23T07:10:00Z", CultureInfo.InvariantCulture);
        var fired = cronos;
        var until = cronos.AddYears(12);
        for (var i = 0; i < 200 && cronos < until; i++)
        {
            cronos = schedule.NextOccurrence(cronos)!.Value;
            fired = quartz.GetNextValidTimeAfter(fired)!.Value;
            Assert.Equal(cronos, fired.ToUniversalTime());
        }
    }
}
