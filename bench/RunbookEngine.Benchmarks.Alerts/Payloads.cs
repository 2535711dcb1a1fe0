using System.Globalization;
using System.Text;

namespace RunbookEngine.Benchmarks.Alerts;

/// <summary>
/// Alertmanager webhook_config bodies (payload version "4"), shaped like a live grouped notification, where every alert
/// has a fingerprint and startsAt of its own, so none is a duplicate of another.
/// </summary>
internal static class Payloads
{
    private static readonly DateTimeOffset Epoch = new(2026, 11, 22, 10, 0, 0, TimeSpan.Zero);
    private static long _next;

    /// <summary>
    /// A notification of <paramref name="count"/> firing alerts named <paramref name="alertName"/>; with
    /// <paramref name="oneInHundred"/>, every hundredth alert over all calls is named that instead (a storm's 1%).
    /// </summary>
    public static byte[] Alertmanager(string alertName, int count, string? oneInHundred = null)
    {
        var body = new StringBuilder(512 + (count * 420));
        body.Append("""{"receiver":"runbook-webhook","status":"firing","alerts":[""");
        for (var i = 0; i < count; i++)
        {
            var n = Interlocked.Increment(ref _next);
            var name = oneInHundred is not null && n % 100 == 0 ? oneInHundred : alertName;
            var startsAt = Epoch.AddTicks(n * 10).ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
            if (i > 0)
            {
                body.Append(',');
            }

            body.Append(CultureInfo.InvariantCulture, $$"""
                {"status":"firing","labels":{"alertname":"{{name}}","instance":"bench-{{n}}:9100","job":"bench","service":"bench","severity":"warning"},"annotations":{"runbook_url":"https://runbooks.example.com/bench","summary":"benchmark alert {{n}}"},"startsAt":"{{startsAt}}","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://127.0.0.1:9090/graph?g0.expr=up%3D%3D0","fingerprint":"{{n:x16}}"}
                """);
        }

        // A storm's mixed names are grouped by job, as Alertmanager would; a group of one name by that name.
        var group = oneInHundred is null ? $"\"alertname\":\"{alertName}\"" : "\"job\":\"bench\"";
        var common = oneInHundred is null ? $"\"alertname\":\"{alertName}\"," : "";
        var groupKey = oneInHundred is null ? "{}:{alertname=\\\"" + alertName + "\\\"}" : "{}:{job=\\\"bench\\\"}";
        body.Append(CultureInfo.InvariantCulture, $$"""
            ],"groupLabels":{{{group}}},"commonLabels":{{{common}}"job":"bench","service":"bench","severity":"warning"},"commonAnnotations":{"runbook_url":"https://runbooks.example.com/bench"},"externalURL":"http://127.0.0.1:9093","version":"4","groupKey":"{{groupKey}}","truncatedAlerts":0}
            """);
        return Encoding.UTF8.GetBytes(body.ToString());
    }
}
