using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Sdk;

namespace RunbookEngine.Scripting.Tests;

public sealed class ParameterBinderTests
{
    private static readonly RunbookDefinition Definition = FrontMatterParser.Parse("x.csx", """
        // ---
        // description: binding
        // parameters:
        //   instance: { type: string, required: true, from: labels.instance }
        //   threshold: { type: int, default: 80 }
        //   wait: { type: duration, default: 5m }
        //   mode: { type: string, values: [fast, safe], default: safe }
        //   summary: { type: string, from: annotations.summary }
        //   alert_name: { type: string, from: alert.name }
        // ---
        """).Definition!;

    [Fact]
    public void Bind_TakesSuppliedValuesThenTheAlertThenDefaults()
    {
        var alert = new RunbookAlert("alertmanager", "DiskFull", AlertStatus.Firing, "critical",
            new Dictionary<string, string> { ["instance"] = "web-1:9100" }, new Dictionary<string, string> { ["summary"] = "disk 95%" },
            DateTimeOffset.UnixEpoch, null, "fp");

        var result = ParameterBinder.Bind(Definition, new Dictionary<string, string> { ["threshold"] = "90" }, alert);

        Assert.Empty(result.Errors);
        var p = result.Parameters!;
        Assert.Equal(("web-1:9100", 90, TimeSpan.FromMinutes(5), "safe", "disk 95%", "DiskFull"),
            (p.Get<string>("instance"), p.Get<int>("threshold"), p.Get<TimeSpan>("wait"), p.Get<string>("mode"), p.Get<string>("summary"), p.Get<string>("alert_name")));
    }

    [Fact]
    public void Bind_NeverEchoesASecretValue()
    {
        var definition = FrontMatterParser.Parse("x.csx", "// ---\n// description: s\n// parameters:\n//   pin: { type: int, secret: true }\n// ---\n").Definition!;

        var result = ParameterBinder.Bind(definition, new Dictionary<string, string> { ["pin"] = "s3cr3t-password" }, alert: null);

        Assert.Equal("parameter 'pin': the value is not an int (a whole number)", Assert.Single(result.Errors));
    }

    [Fact]
    public void Bind_NamesEveryInvalidParameter()
    {
        var result = ParameterBinder.Bind(Definition, new Dictionary<string, string>
        {
            ["threshold"] = "high",
            ["wait"] = "forever",
            ["mode"] = "yolo",
            ["colour"] = "blue",
        }, alert: null);

        Assert.Null(result.Parameters);
        Assert.Equal(
        [
            "parameter 'colour': not declared; the runbook takes instance, threshold, wait, mode, summary, alert_name",
            "parameter 'instance': required, and no value was given (the alert has no labels.instance)",
            "parameter 'threshold': 'high' is not an int (a whole number)",
            "parameter 'wait': 'forever' is not a duration; use 10m, 1h30m or 00:10:00",
            "parameter 'mode': 'yolo' is not one of fast, safe",
        ], result.Errors);
    }
}
