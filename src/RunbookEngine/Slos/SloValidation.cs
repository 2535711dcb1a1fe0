using System.Globalization;
using Microsoft.Extensions.Options;
using RunbookEngine.Sdk;

namespace RunbookEngine.Slos;

/// <summary>
/// Refuses at start SLOs that could never be evaluated (no name, an objective of 100%, a query without its window, no
/// Prometheus), each message naming its setting, rather than leaving them unknown for ever after the host starts.
/// </summary>
internal sealed class SloValidation : IValidateOptions<RunbookEngineOptions>
{
    private const string Prefix = "RunbookEngine:Slos:";

    public ValidateOptionsResult Validate(string? name, RunbookEngineOptions options)
    {
        var errors = Problems(options);
        return errors.Count > 0 ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }

    /// <summary>Every problem of the SLO and Prometheus settings, one message each.</summary>
    public static List<string> Problems(RunbookEngineOptions options)
    {
        var errors = new List<string>();
        var prometheus = options.Prometheus;
        if (options.Slos.Count > 0 && !IsHttpUrl(prometheus.Url))
        {
            errors.Add("RunbookEngine:Prometheus:Url must be the absolute http(s) address of the Prometheus the SLOs are read from, e.g. http://prometheus:9090/");
        }
        else if (prometheus.Url is { Length: > 0 } && !IsHttpUrl(prometheus.Url))
        {
            errors.Add("RunbookEngine:Prometheus:Url must be an absolute http(s) address, e.g. http://prometheus:9090/");
        }

        if (prometheus.Timeout < TimeSpan.FromMilliseconds(100) || prometheus.Timeout > TimeSpan.FromMinutes(2))
        {
            errors.Add("RunbookEngine:Prometheus:Timeout must be between 00:00:00.1 and 00:02:00");
        }

        if (prometheus.EvaluationInterval < TimeSpan.FromSeconds(1))
        {
            errors.Add("RunbookEngine:Prometheus:EvaluationInterval must be at least 00:00:01");
        }

        else if (prometheus.Timeout >= prometheus.EvaluationInterval)
        {
            errors.Add("RunbookEngine:Prometheus:Timeout must be shorter than RunbookEngine:Prometheus:EvaluationInterval, or the passes overlap and the budgets go stale");
        }

        if (prometheus.BurnRateWindow < TimeSpan.FromMinutes(5))
        {
            errors.Add("RunbookEngine:Prometheus:BurnRateWindow must be at least 00:05:00, at least 4 × the scrape interval (rate() needs two samples in it)");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Slos.Count; i++)
        {
            var slo = options.Slos[i];
            var at = $"{Prefix}{i.ToString(CultureInfo.InvariantCulture)}:";
            var called = string.IsNullOrWhiteSpace(slo.Name) ? "" : $" ({slo.Name})";
            if (string.IsNullOrWhiteSpace(slo.Name))
            {
                errors.Add($"{at}Name must be set: the name a runbook's budget_gate names, e.g. checkout-availability");
            }
            else if (!seen.Add(slo.Name))
            {
                errors.Add($"{at}Name '{slo.Name}' is used by an earlier SLO; names must be unique");
            }

            if (slo.Objective > 0 && slo.Objective <= 1)
            {
                // 0.999 would be read as 0.999%: a budget of 99% of all requests that nothing ever spends.
                errors.Add($"{at}Objective{called} {slo.Objective.ToString(CultureInfo.InvariantCulture)} looks like a ratio; write the percentage, e.g. 99.9");
            }
            else if (!(slo.Objective > 0 && slo.Objective < 100))
            {
                errors.Add($"{at}Objective{called} must be a percentage above 0 and below 100, e.g. 99.9 (100 leaves no error budget)");
            }

            if (!Durations.TryParse(slo.Window, out var window) || window < TimeSpan.FromMinutes(1))
            {
                errors.Add($"{at}Window{called} '{slo.Window}' is not a window of at least a minute; use e.g. 28d or 7d");
            }

            if (slo.LowBelow > 0 && slo.LowBelow < 1)
            {
                errors.Add($"{at}LowBelow{called} {slo.LowBelow.ToString(CultureInfo.InvariantCulture)} looks like a ratio; write the percentage of the budget, e.g. 25");
            }
            else if (!(slo.LowBelow > 0 && slo.LowBelow <= 100))
            {
                errors.Add($"{at}LowBelow{called} must be a percentage above 0 and at most 100, e.g. 25");
            }

            var pair = !string.IsNullOrWhiteSpace(slo.Good) || !string.IsNullOrWhiteSpace(slo.Total);
            var ratio = !string.IsNullOrWhiteSpace(slo.ErrorRatio);
            if (pair == ratio)
            {
                errors.Add($"{at}Good, Total and ErrorRatio{called}: give either Good and Total (PromQL for good and for all events) or ErrorRatio (PromQL for bad/all), not both or neither");
                continue;
            }

            foreach (var (field, query) in ratio ? [("ErrorRatio", slo.ErrorRatio)] : new[] { ("Good", slo.Good), ("Total", slo.Total) })
            {
                if (string.IsNullOrWhiteSpace(query))
                {
                    errors.Add($"{at}{field}{called} must be set: Good and Total go together");
                }
                else if (!query.Contains(Slo.WindowPlaceholder, StringComparison.Ordinal))
                {
                    errors.Add($"{at}{field}{called} must contain {Slo.WindowPlaceholder} where the range goes, e.g. sum(rate(http_requests_total[{Slo.WindowPlaceholder}])), so one query serves the SLO's window and the burn rate's");
                }
            }
        }

        return errors;
    }

    private static bool IsHttpUrl(string? text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);
}
