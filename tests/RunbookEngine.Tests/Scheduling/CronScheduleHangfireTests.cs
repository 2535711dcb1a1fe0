using System.Globalization;
using Hangfire;
using Hangfire.Common;
using Hangfire.InMemory;
using Hangfire.Storage;
using RunbookEngine.Scheduling;
using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Tests.Scheduling;

/// <summary>
/// Hangfire fires schedules while Cronos validates them and says when they next fire (API, dashboard, CLI): the
/// expression a runbook's recurring job is given must fire, by Hangfire's own reading, exactly when Cronos says.
/// </summary>
public sealed class CronScheduleHangfireTests
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
    public void HangfireFiresWhenCronosSays(string cron)
    {
        Assert.True(CronSchedule.TryParse(cron, out var schedule, out var error), error);
        var now = DateTime.Parse("2026-11-23T07:10:00Z", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal);

        // Hangfire works out a recurring job's next execution as the job is written: write it at each occurrence Cronos
        // gives and read back when Hangfire says it fires next.
        var cronos = new DateTimeOffset(now, TimeSpan.Zero);
        var until = cronos.AddYears(12);
        for (var i = 0; i < 40 && cronos < until; i++)
        {
            var at = cronos.UtcDateTime.AddSeconds(1);
            using var storage = new InMemoryStorage();
            var manager = new RecurringJobManager(storage, JobFilterProviders.Providers, new DefaultTimeZoneResolver(), () => at);
            manager.AddOrUpdate<ScheduledRunJob>("r", job => job.FireAsync("r", null), schedule!.ToCronosExpression(), new RecurringJobOptions { TimeZone = TimeZoneInfo.Utc });
            using var connection = storage.GetConnection();
            var fired = Assert.Single(connection.GetRecurringJobs()).NextExecution;

            cronos = schedule.NextOccurrence(cronos)!.Value;
            Assert.Equal(cronos.UtcDateTime, fired);
        }
    }
}
