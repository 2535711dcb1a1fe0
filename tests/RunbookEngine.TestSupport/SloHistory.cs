using System.Globalization;
using System.Text;

namespace RunbookEngine.TestSupport;

/// <summary>
/// Synthetic request counters for SLO tests, in OpenMetrics text for <see cref="PrometheusProcess.StartAsync"/>'s
/// history: two hours sampled each minute up to <c>now</c>, 10,000 requests a minute per service
/// (<c>slo_requests_total</c>), of which the given number were good (<c>slo_good_requests_total</c>). Each service fails
/// a constant share, so its SLI over any range inside the two hours is exact. The counters start high so that rate()'s
/// extrapolation treats good and total alike.
/// </summary>
public static class SloHistory
{
    /// <summary>Requests each service serves a minute.</summary>
    public const int RequestsPerMinute = 10_000;

    /// <summary>The history.</summary>
    /// <param name="now">The last sample's time.</param>
    /// <param name="services">Each service and its good requests a minute (of <see cref="RequestsPerMinute"/>).</param>
    /// <returns>OpenMetrics text ending <c># EOF</c>.</returns>
    public static string Counters(DateTimeOffset now, params (string Service, double GoodPerMinute)[] services)
    {
        ArgumentNullException.ThrowIfNull(services);
        var text = new StringBuilder();
        var start = now.ToUnixTimeSeconds() - 7200;
        text.Append("# HELP slo_requests All requests.\n# TYPE slo_requests counter\n");
        foreach (var (service, _) in services)
        {
            for (var i = 0; i <= 120; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"slo_requests_total{{service=\"{service}\"}} {1_000_000 + (RequestsPerMinute * i)} {start + (60 * i)}\n");
            }
        }

        text.Append("# HELP slo_good_requests Requests served well.\n# TYPE slo_good_requests counter\n");
        foreach (var (service, good) in services)
        {
            for (var i = 0; i <= 120; i++)
            {
                text.Append(CultureInfo.InvariantCulture, $"slo_good_requests_total{{service=\"{service}\"}} {1_000_000 + (good * i)} {start + (60 * i)}\n");
            }
        }

        return text.Append("# EOF\n").ToString();
    }
}
