using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Tests;

public sealed class DurationTests
{
    [Theory]
    [InlineData("10m", 600)]
    [InlineData("1h30m", 5400)]
    [InlineData("45s", 45)]
    [InlineData("1.5s", 1.5)]
    [InlineData("2d", 172800)]
    [InlineData("500ms", 0.5)]
    [InlineData("00:10:00", 600)]
    [InlineData("1.02:00:00", 93600)]
    public void TryParse_ReadsTheForms_FrontMatterAllows(string text, double seconds)
    {
        Assert.True(Durations.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("10 minutes")]
    [InlineData("600")]
    [InlineData("m")]
    [InlineData("")]
    [InlineData("-5m")]
    [InlineData("99999999999d")]
    public void TryParse_RefusesAnythingElse(string text)
    {
        Assert.False(Durations.TryParse(text, out _));
    }

    [Theory]
    [InlineData(5400, "1h30m")]
    [InlineData(0.25, "250ms")]
    [InlineData(12, "12s")]
    [InlineData(172800, "2d")]
    public void Format_WritesWhatTryParseReads(double seconds, string text)
    {
        Assert.Equal(text, Durations.Format(TimeSpan.FromSeconds(seconds)));
        Assert.True(Durations.TryParse(text, out var back));
        Assert.Equal(TimeSpan.FromSeconds(seconds), back);
    }
}
