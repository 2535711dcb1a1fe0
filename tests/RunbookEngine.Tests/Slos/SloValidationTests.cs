using RunbookEngine.Slos;

namespace RunbookEngine.Tests.Slos;

public sealed class SloValidationTests
{
    private static SloOptions Good() => new() { Name = "checkout", Objective = 99.9, Window = "28d", Good = "sum(rate(ok[$window]))", Total = "sum(rate(all[$window]))" };

    [Fact]
    public void Problems_OfAWellFormedSlo_AreNone()
    {
        var options = new RunbookEngineOptions { Prometheus = new PrometheusOptions { Url = "http://prometheus:9090/" }, Slos = [Good(), new SloOptions { Name = "api", Objective = 99, ErrorRatio = "e[$window]" }] };

        Assert.Empty(SloValidation.Problems(options));
    }

    [Fact]
    public void Problems_WithoutNoSlos_AskForNoPrometheus()
    {
        Assert.Empty(SloValidation.Problems(new RunbookEngineOptions()));
    }

    [Theory]
    [InlineData("url", "RunbookEngine:Prometheus:Url must be the absolute http(s) address of the Prometheus the SLOs are read from, e.g. http://prometheus:9090/")]
    [InlineData("name", "RunbookEngine:Slos:0:Name must be set: the name a runbook's budget_gate names, e.g. checkout-availability")]
    [InlineData("objective", "RunbookEngine:Slos:0:Objective (checkout) must be a percentage above 0 and below 100, e.g. 99.9 (100 leaves no error budget)")]
    [InlineData("window", "RunbookEngine:Slos:0:Window (checkout) 'a month' is not a window of at least a minute; use e.g. 28d or 7d")]
    [InlineData("both", "RunbookEngine:Slos:0:Good, Total and ErrorRatio (checkout): give either Good and Total (PromQL for good and for all events) or ErrorRatio (PromQL for bad/all), not both or neither")]
    [InlineData("total", "RunbookEngine:Slos:0:Total (checkout) must be set: Good and Total go together")]
    [InlineData("placeholder", "RunbookEngine:Slos:0:Good (checkout) must contain $window where the range goes, e.g. sum(rate(http_requests_total[$window])), so one query serves the SLO's window and the burn rate's")]
    [InlineData("low", "RunbookEngine:Slos:0:LowBelow (checkout) must be a percentage above 0 and at most 100, e.g. 25")]
    [InlineData("ratio", "RunbookEngine:Slos:0:Objective (checkout) 0.999 looks like a ratio; write the percentage, e.g. 99.9")]
    [InlineData("low-ratio", "RunbookEngine:Slos:0:LowBelow (checkout) 0.25 looks like a ratio; write the percentage of the budget, e.g. 25")]
    [InlineData("interval", "RunbookEngine:Prometheus:EvaluationInterval must be at least 00:00:01")]
    public void Problems_OfABadSetting_NameItAndSayWhatToWrite(string broken, string expected)
    {
        var slo = Good();
        var prometheus = new PrometheusOptions { Url = "http://prometheus:9090/" };
        switch (broken)
        {
            case "url": prometheus.Url = "prometheus:9090"; break;
            case "name": slo.Name = " "; break;
            case "objective": slo.Objective = 100; break;
            case "window": slo.Window = "a month"; break;
            case "both": slo.ErrorRatio = "e[$window]"; break;
            case "total": slo.Total = null; break;
            case "placeholder": slo.Good = "sum(rate(ok[5m]))"; break;
            case "low": slo.LowBelow = 0; break;
            case "ratio": slo.Objective = 0.999; break;
            case "low-ratio": slo.LowBelow = 0.25; break;
            case "interval": prometheus.EvaluationInterval = TimeSpan.FromMilliseconds(10); break;
        }

        var problems = SloValidation.Problems(new RunbookEngineOptions { Prometheus = prometheus, Slos = [slo] });

        Assert.Equal(expected, Assert.Single(problems));
    }

    [Fact]
    public void Problems_OfTwoSlosWithOneName_SayItIsTaken()
    {
        var problems = SloValidation.Problems(new RunbookEngineOptions { Prometheus = new PrometheusOptions { Url = "http://p:9090/" }, Slos = [Good(), Good()] });

        Assert.Equal("RunbookEngine:Slos:1:Name 'checkout' is used by an earlier SLO; names must be unique", Assert.Single(problems));
    }
}
