using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Slos;

/// <summary>
/// Evaluates every SLO against Prometheus at start and then every <see cref="PrometheusOptions.EvaluationInterval"/>, on
/// every node, and keeps the outcome in <see cref="SloBudgets"/>. A failed query leaves the SLO unknown, with why.
/// </summary>
public sealed partial class SloEvaluator(SloBudgets budgets, IHttpClientFactory http, IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<SloEvaluator> logger) : BackgroundService
{
    /// <summary>How many SLOs one pass evaluates at once.</summary>
    public const int MaxConcurrentSlos = 4;

    /// <summary>
    /// The shortest range <see cref="BurnRateBetweenAsync"/> reads: rate() needs two samples in its range, so a
    /// remediation of a minute would otherwise read as no series at all.
    /// </summary>
    public static readonly TimeSpan MinimumBurnRange = TimeSpan.FromMinutes(5);

    /// <summary>Evaluates every SLO once.</summary>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>A task that completes when every SLO has a new status.</returns>
    public async Task EvaluateAllAsync(CancellationToken cancellationToken)
    {
        var prometheus = options.Value.Prometheus;
        if (budgets.Slos.Count == 0 || prometheus.Url is null)
        {
            return;
        }

        var client = new PrometheusClient(http.CreateClient(PrometheusClient.HttpClientName), new Uri(prometheus.Url), prometheus.Timeout);

        // A few at a time: one slow SLO (each of its queries may take the whole Timeout) must not age the others into
        // unknown, and Prometheus should not get every SLO's queries at once.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentSlos, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(budgets.Slos, parallel, async (slo, token) =>
        {
            var evaluated = await EvaluateAsync(client, slo, prometheus.BurnRateWindow, time.GetUtcNow(), token);

            // Stamped when its answer arrived, not when the pass began, so a long pass does not read as a stale one.
            var status = evaluated with { EvaluatedAt = time.GetUtcNow() };
            var before = budgets.Latest(slo.Name);

            // Said when it changes, not every interval: a Prometheus down for an hour is one warning, not sixty.
            if (status.State == SloState.Unknown && (before is null || before.State != SloState.Unknown || before.Error != status.Error))
            {
                LogUnknown(slo.Name, status.Error ?? "");
            }
            else if (status.State != SloState.Unknown && before is { State: SloState.Unknown })
            {
                LogKnownAgain(slo.Name, status.State.ToString().ToLowerInvariant(), status.BudgetRemainingPercent ?? 0);
            }

            budgets.Record(status);
        });
    }

    /// <summary>One SLO's SLI over its window, the budget left, and the burn rate over the short window.</summary>
    /// <param name="client">The Prometheus client.</param>
    /// <param name="slo">The SLO.</param>
    /// <param name="burnRateWindow">The short window.</param>
    /// <param name="at">The evaluation instant, shared by its queries.</param>
    /// <param name="cancellationToken">Cancels the evaluation.</param>
    /// <returns>Its status; unknown, with why, when a query failed or the SLI is undefined (no events).</returns>
    public static async Task<SloStatus> EvaluateAsync(PrometheusClient client, Slo slo, TimeSpan burnRateWindow, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(slo);
        var unknown = new SloStatus(slo.Name, slo.Service, slo.Objective * 100, slo.WindowText, SloState.Unknown, null, null, null, at, null);
        try
        {
            var errors = await ErrorRatioAsync(client, slo, slo.Window, at, cancellationToken);
            var recent = await ErrorRatioAsync(client, slo, burnRateWindow, at, cancellationToken);
            if (!double.IsFinite(errors))
            {
                return unknown with { Error = $"Prometheus has no events for its window ({slo.WindowText}), so the SLI is undefined (the query answered NaN or an infinity)" };
            }

            // No traffic in the short window (0 ÷ 0) burns nothing: a quiet night must not make the whole SLO unknown
            // when the window's figures are there. A series that is gone answers no series, which stays unknown.
            if (double.IsNaN(recent))
            {
                recent = 0;
            }
            else if (!double.IsFinite(recent))
            {
                return unknown with { Error = $"the burn-rate window ({Sdk.Durations.Format(burnRateWindow)}) answered an infinity, so the burn rate is undefined" };
            }

            var remaining = ErrorBudget.Remaining(1 - errors, slo.Objective);
            return unknown with
            {
                State = ErrorBudget.StateOf(remaining, slo.LowBelow),
                Sli = (1 - errors) * 100,
                BudgetRemainingPercent = remaining * 100,
                BurnRate = ErrorBudget.BurnRate(recent, slo.Objective),
            };
        }
        catch (PrometheusQueryException ex)
        {
            return unknown with { Error = ex.Message };
        }
    }

    /// <summary>
    /// An SLO's burn rate over a past range, such as an incident's, for <see cref="BudgetSaved"/>: the error ratio over
    /// [<paramref name="from"/>, <paramref name="to"/>] divided by the budget's. Null when it cannot be read (no such SLO,
    /// no Prometheus, a failed query, no events in the range), since an unknown burn saves nothing that can be counted.
    /// </summary>
    /// <param name="name">The SLO's name.</param>
    /// <param name="from">The range's start.</param>
    /// <param name="to">The range's end.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The burn rate, or null.</returns>
    public async Task<double?> BurnRateBetweenAsync(string name, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var prometheus = options.Value.Prometheus;
        if (budgets.Find(name) is not { } slo || prometheus.Url is null || to < from)
        {
            return null;
        }

        // A fast remediation's range holds fewer than two samples; widen it back from its end.
        if (to - from < MinimumBurnRange)
        {
            from = to - MinimumBurnRange;
        }

        var client = new PrometheusClient(http.CreateClient(PrometheusClient.HttpClientName), new Uri(prometheus.Url), prometheus.Timeout);
        try
        {
            var errors = await ErrorRatioAsync(client, slo, to - from, to, cancellationToken);
            return double.IsFinite(errors) ? ErrorBudget.BurnRate(errors, slo.Objective) : null;
        }
        catch (PrometheusQueryException ex)
        {
            LogRangeUnknown(slo.Name, from, to, ex.Message);
            return null;
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (budgets.Slos.Count == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.Prometheus.EvaluationInterval, time);
        do
        {
            try
            {
                await EvaluateAllAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // The statuses go stale and read as unknown; the loop must go on so they come back.
                LogFailed(ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    // Rounding in Prometheus may put a true 0 or 1 a hair outside.
    private const double RatioSlack = 1e-9;

    // The share of bad events over the range: from the ratio query, or 1 − good/total.
    private static async Task<double> ErrorRatioAsync(PrometheusClient client, Slo slo, TimeSpan range, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (slo.ErrorRatio is { } ratio)
        {
            var value = await client.QueryAsync(Slo.WithRange(ratio, range), at, cancellationToken);
            if (double.IsFinite(value) && (value < -RatioSlack || value > 1 + RatioSlack))
            {
                // Probably the SLI (good ÷ all) or a rate, not bad ÷ all: read as is it would be a made-up budget.
                throw new PrometheusQueryException(
                    $"the error ratio answered {value.ToString("G6", CultureInfo.InvariantCulture)}, outside 0 to 1; ErrorRatio must be bad events ÷ all events");
            }

            return double.IsFinite(value) ? Math.Clamp(value, 0, 1) : value;
        }

        var good = await client.QueryAsync(Slo.WithRange(slo.Good!, range), at, cancellationToken);
        var total = await client.QueryAsync(Slo.WithRange(slo.Total!, range), at, cancellationToken);
        // Both counted by one Prometheus at one instant; only rounding may put good a hair above total.
        if (good > total * (1 + 1e-9))
        {
            throw new PrometheusQueryException(
                $"the good events ({good.ToString("G6", CultureInfo.InvariantCulture)}) outnumber all events ({total.ToString("G6", CultureInfo.InvariantCulture)}); check that Good counts a subset of what Total counts");
        }

        return Math.Max(0, 1 - (good / total));
    }

    [LoggerMessage(EventId = 1950, Level = LogLevel.Warning, Message = "SLO {Slo} is unknown: {Reason}")]
    private partial void LogUnknown(string slo, string reason);

    [LoggerMessage(EventId = 1952, Level = LogLevel.Information, Message = "SLO {Slo} is known again: {State}, {BudgetRemainingPercent:0.##}% of its error budget left")]
    private partial void LogKnownAgain(string slo, string state, double budgetRemainingPercent);

    [LoggerMessage(EventId = 1953, Level = LogLevel.Warning, Message = "The burn rate of SLO {Slo} from {From:u} to {To:u} could not be read, so no budget saved is counted: {Reason}")]
    private partial void LogRangeUnknown(string slo, DateTimeOffset from, DateTimeOffset to, string reason);

    [LoggerMessage(EventId = 1951, Level = LogLevel.Error, Message = "The SLO evaluation failed; the budgets read as unknown until it works again")]
    private partial void LogFailed(Exception exception);
}
