using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Hosting;
using RunbookEngine.Retention;
using RunbookEngine.Storage;

namespace RunbookEngine.Tests.Retention;

public sealed class RetentionOptionsTests
{
    private static RunbookEngineOptions Load(params (string Key, string Value)[] settings)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>("RunbookEngine:Retention:" + s.Key, s.Value)))
            .Build();
        using var provider = new ServiceCollection().AddRunbookEngine(configuration).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<RunbookEngineOptions>>().Value;
    }

    [Fact]
    public void The_defaults_keep_90_days_and_delete_hourly_in_batches_of_1000()
    {
        var retention = Load().Retention;

        Assert.Equal((TimeSpan.FromDays(90), TimeSpan.FromHours(1), 1000, TimeSpan.FromMilliseconds(100), true),
            (retention.MaxAge, retention.Interval, retention.BatchSize, retention.Pause, retention.Enabled));
    }

    [Fact]
    public async Task The_engine_runs_retention_on_its_own_store()
    {
        var data = Directory.CreateTempSubdirectory("runbook-retention-").FullName;
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection([new KeyValuePair<string, string?>("RunbookEngine:DataPath", data)])
            .Build();
        var services = new ServiceCollection().AddRunbookEngine(configuration);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IRunStore>().MigrateAsync(default);

        var retention = provider.GetRequiredService<RunHistoryRetention>();
        var pass = await retention.PassAsync(default);

        Assert.Equal((true, 0), (pass.Worked, pass.Runs));
    }

    [Fact]
    public void A_max_age_of_zero_turns_retention_off()
    {
        Assert.False(Load(("MaxAge", "0")).Retention.Enabled);
    }

    [Theory]
    [InlineData("MaxAge", "01:00:00", "RunbookEngine:Retention:MaxAge must be at least 1 day (e.g. 90.00:00:00), or 0 to keep history forever")]
    [InlineData("Interval", "00:00:10", "RunbookEngine:Retention:Interval must be at least 1 minute")]
    [InlineData("BatchSize", "0", "RunbookEngine:Retention:BatchSize must be between 1 and 10000")]
    [InlineData("Pause", "-00:00:01", "RunbookEngine:Retention:Pause must be between 0 and 1 minute")]
    public void A_setting_out_of_range_is_refused_with_what_is_allowed(string key, string value, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() => Load((key, value)));

        Assert.Contains(message, error.Failures);
    }
}
