using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RunbookEngine.Slos;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Slos;

/// <summary>
/// The evaluator against answers a real Prometheus gives only in situations hard to stage (a quiet night, a ratio query
/// that answers the SLI), served by a fake of its HTTP API on 127.0.0.1.
/// </summary>
public sealed class SloEvaluatorAnswersTests : IAsyncLifetime
{
    private readonly ServiceProvider _services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
    private readonly FakePrometheus _prometheus = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _prometheus.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task EvaluateAllAsync_WithNoTrafficInTheBurnRateWindow_KeepsTheBudgetKnownAtABurnRateOfZero()
    {
        _prometheus.Answer("good[86400s]", "9995");
        _prometheus.Answer("all[86400s]", "10000");
        _prometheus.Answer("good[3600s]", "0");
        _prometheus.Answer("all[3600s]", "0");
        _prometheus.Answer("ratio[86400s]", "0.0005");
        _prometheus.Answer("ratio[3600s]", "NaN");
        _prometheus.Answer("gone[86400s]", "0.0005");

        var slos = await EvaluateAsync(
            new SloOptions { Name = "pair", Objective = 99.9, Window = "1d", Good = "good[$window]", Total = "all[$window]" },
            new SloOptions { Name = "ratio", Objective = 99.9, Window = "1d", ErrorRatio = "ratio[$window]" },
            new SloOptions { Name = "gone", Objective = 99.9, Window = "1d", ErrorRatio = "gone[$window]" });

        Assert.Equal((SloState.Ok, 50.0, 0.0), (slos["pair"].State, Math.Round(slos["pair"].BudgetRemainingPercent!.Value, 6), slos["pair"].BurnRate!.Value));
        Assert.Equal((SloState.Ok, 50.0, 0.0), (slos["ratio"].State, Math.Round(slos["ratio"].BudgetRemainingPercent!.Value, 6), slos["ratio"].BurnRate!.Value));
        Assert.Equal(
            (SloState.Unknown, "the query returned no series: check its metric names and labels, and that Prometheus has data for the whole range"),
            (slos["gone"].State, slos["gone"].Error));
    }

    [Theory]
    [InlineData("99.95", "the error ratio answered 99.95, outside 0 to 1; ErrorRatio must be bad events ÷ all events")]
    [InlineData("-0.01", "the error ratio answered -0.01, outside 0 to 1; ErrorRatio must be bad events ÷ all events")]
    [InlineData("1.5", "the error ratio answered 1.5, outside 0 to 1; ErrorRatio must be bad events ÷ all events")]
    public async Task EvaluateAllAsync_OfAnErrorRatioOutsideZeroToOne_IsUnknown(string answer, string expected)
    {
        _prometheus.Answer("ratio[86400s]", answer);
        _prometheus.Answer("ratio[3600s]", answer);

        var slos = await EvaluateAsync(new SloOptions { Name = "ratio", Objective = 99.9, Window = "1d", ErrorRatio = "ratio[$window]" });

        Assert.Equal((SloState.Unknown, expected), (slos["ratio"].State, slos["ratio"].Error));
    }

    [Fact]
    public async Task EvaluateAllAsync_OfAnErrorRatioARoundingOutside_ReadsItAsTheBound()
    {
        _prometheus.Answer("ratio[86400s]", "-1e-12");
        _prometheus.Answer("ratio[3600s]", "-1e-12");

        var slos = await EvaluateAsync(new SloOptions { Name = "ratio", Objective = 99.9, Window = "1d", ErrorRatio = "ratio[$window]" });

        Assert.Equal((SloState.Ok, 100.0, 0.0), (slos["ratio"].State, slos["ratio"].BudgetRemainingPercent!.Value, slos["ratio"].BurnRate!.Value));
    }

    [Fact]
    public async Task EvaluateAllAsync_StampsEachSloWhenItsAnswerArrived()
    {
        _prometheus.Answer("ratio[86400s]", "0.0005");
        _prometheus.Answer("ratio[3600s]", "0.0005");
        var before = TimeProvider.System.GetUtcNow();

        var slos = await EvaluateAsync(new SloOptions { Name = "ratio", Objective = 99.9, Window = "1d", ErrorRatio = "ratio[$window]" });

        Assert.Equal(SloState.Ok, slos["ratio"].State);
        Assert.InRange(slos["ratio"].EvaluatedAt!.Value, _prometheus.LastAnsweredAt, TimeProvider.System.GetUtcNow());
        Assert.True(_prometheus.LastAnsweredAt >= before);
    }

    [Fact]
    public async Task BurnRateBetweenAsync_OfAFastRemediation_ReadsAtLeastFiveMinutes()
    {
        _prometheus.Answer("ratio[300s]", "0.0005");
        var options = Options(new SloOptions { Name = "ratio", Objective = 99.9, Window = "1d", ErrorRatio = "ratio[$window]" });
        var evaluator = Evaluator(options, new SloBudgets(options, TimeProvider.System));
        var now = TimeProvider.System.GetUtcNow();

        var burn = await evaluator.BurnRateBetweenAsync("ratio", now - TimeSpan.FromSeconds(40), now, CancellationToken.None);

        Assert.Equal(0.5, burn!.Value, 6);
    }

    private async Task<Dictionary<string, SloStatus>> EvaluateAsync(params SloOptions[] slos)
    {
        var options = Options(slos);
        var budgets = new SloBudgets(options, TimeProvider.System);
        await Evaluator(options, budgets).EvaluateAllAsync(CancellationToken.None);
        return budgets.Current().ToDictionary(s => s.Name);
    }

    private IOptions<RunbookEngineOptions> Options(params SloOptions[] slos) => Microsoft.Extensions.Options.Options.Create(new RunbookEngineOptions
    {
        Prometheus = new PrometheusOptions { Url = _prometheus.Address.ToString(), BurnRateWindow = TimeSpan.FromHours(1) },
        Slos = [.. slos],
    });

    private SloEvaluator Evaluator(IOptions<RunbookEngineOptions> options, SloBudgets budgets) =>
        new(budgets, _services.GetRequiredService<IHttpClientFactory>(), options, TimeProvider.System, NullLogger<SloEvaluator>.Instance);

    /// <summary>Answers each known query with one sample, any other with no series, as Prometheus does.</summary>
    private sealed class FakePrometheus : LoopbackHttpServer
    {
        private readonly ConcurrentDictionary<string, string> _answers = new(StringComparer.Ordinal);

        public FakePrometheus() => Listen();

        public DateTimeOffset LastAnsweredAt { get; private set; }

        public void Answer(string query, string value) => _answers[query] = value;

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            var query = context.Request.QueryString["query"] ?? "";
            var result = _answers.TryGetValue(query, out var value) ? $$"""[{"metric":{},"value":[1,"{{value}}"]}]""" : "[]";
            var body = Encoding.UTF8.GetBytes($$$"""{"status":"success","data":{"resultType":"vector","result":{{{result}}}}}""");
            context.Response.ContentType = "application/json";
            LastAnsweredAt = TimeProvider.System.GetUtcNow();
            await context.Response.OutputStream.WriteAsync(body);
        }
    }
}
