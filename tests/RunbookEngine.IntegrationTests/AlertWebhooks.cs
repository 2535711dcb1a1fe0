using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>Posting webhooks to a host and waiting for what they lead to.</summary>
internal static class AlertWebhooks
{
    public static string Fixture(string source, string file) => Path.Combine(AppContext.BaseDirectory, "Fixtures", source, file);

    public static async Task<(int Status, JsonElement Body)> PostHookAsync(
        this HttpClient http, string source, byte[] body, string contentType = "application/json", IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/hooks/{source}") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Posts alerts in the generic shape; answers with the stored alert ids.</summary>
    public static async Task<IReadOnlyList<string>> PostGenericAsync(this HttpClient http, object alerts)
    {
        var (status, body) = await http.PostHookAsync("generic", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(alerts)));
        Assert.True(status == 202, $"the generic hook answered {status}: {body}");
        return [.. body.GetProperty("alerts").EnumerateArray().Select(a => a.GetProperty("id").GetString()!)];
    }

    /// <summary>The alert once matching has decided what to do with it.</summary>
    public static async Task<JsonElement> SettledAlertAsync(this HttpClient http, string alertId)
    {
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        var deadline = TimeProvider.System.GetUtcNow() + TimeSpan.FromMinutes(1);
        while (true)
        {
            var (status, body) = await http.SendAsync(HttpMethod.Get, $"/api/alerts/{alertId}");
            Assert.Equal(200, status);
            var outcome = body.GetProperty("alert").GetProperty("outcome").GetString();
            if (outcome is not ("Pending" or "Matching"))
            {
                return body;
            }

            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"alert {alertId} was never matched: {body}");
            await tick.WaitForNextTickAsync();
        }
    }

    public static string Outcome(this JsonElement alert) => alert.GetProperty("alert").GetProperty("outcome").GetString()!;

    public static IReadOnlyList<(string Runbook, string Decision, string? RunId, string? Reason)> Decisions(this JsonElement alert) =>
        [.. alert.GetProperty("decisions").EnumerateArray().Select(d => (
            d.GetProperty("runbook").GetString()!,
            d.GetProperty("decision").GetString()!,
            d.TryGetProperty("runId", out var run) ? run.GetString() : null,
            d.TryGetProperty("reason", out var reason) ? reason.GetString() : null))];

    public static async Task<int> AlertCountAsync(this HttpClient http)
    {
        var (_, body) = await http.SendAsync(HttpMethod.Get, "/api/alerts?limit=500");
        return body.GetProperty("alerts").GetArrayLength();
    }
}
