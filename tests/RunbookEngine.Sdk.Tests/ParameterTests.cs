namespace RunbookEngine.Sdk.Tests;

public sealed class ParameterTests
{
    private readonly RunbookParameters _parameters = new(new Dictionary<string, object?>
    {
        ["count"] = 5L,
        ["ratio"] = 0.5,
        ["name"] = "web-1",
        ["wait"] = TimeSpan.FromMinutes(10),
        ["missing"] = null,
    });

    [Fact]
    public void Get_ConvertsBetweenNumericTypes()
    {
        Assert.Equal(5, _parameters.Get<int>("count"));
        Assert.Equal(5L, _parameters.Get<long>("count"));
        Assert.Equal("5", _parameters.Get<string>("count"));
        Assert.Equal(TimeSpan.FromMinutes(10), _parameters.Get<TimeSpan>("wait"));
    }

    [Fact]
    public void Get_OfTheWrongType_SaysWhatItHolds()
    {
        var error = Assert.Throws<RunbookFailedException>(() => _parameters.Get<int>("name"));

        Assert.Equal("parameter 'name' holds String 'web-1', which cannot be read as Int32", error.Message);
    }

    [Fact]
    public void Get_WithoutAValue_UsesTheFallbackOrThrows()
    {
        Assert.Equal("none", _parameters.Get("missing", "none"));
        Assert.Throws<RunbookFailedException>(() => _parameters.Get<string>("missing"));
    }

    [Fact]
    public void ToString_FormatsDurationsTheWayFrontMatterWritesThem()
    {
        Assert.Equal("count=5, ratio=0.5, name=web-1, wait=10m, missing=", _parameters.ToString());
    }
}
