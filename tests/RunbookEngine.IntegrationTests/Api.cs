using System.Net.Http.Json;
using System.Text.Json;

namespace RunbookEngine.IntegrationTests;

/// <summary>Small helpers over the host's HTTP API.</summary>
internal static class Api
{
    public static async Task<(int Status, JsonElement Body)> SendAsync(this HttpClient http, HttpMethod method, string path, object? body = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return ((int)response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    public static async Task<string> TriggerAsync(this HttpClient http, string runbook, object parameters)
    {
        var (status, body) = await http.SendAsync(HttpMethod.Post, $"/api/runbooks/{runbook}/runs", new { parameters });
        Assert.True(status == 202, $"trigger answered {status}: {body}");
        return body.GetProperty("runId").GetString()!;
    }

    /// <summary>The run once it has ended: the host holds the answer until then.</summary>
    public static async Task<JsonElement> EndedRunAsync(this HttpClient http, string runId)
    {
        var (status, body) = await http.SendAsync(HttpMethod.Get, $"/api/runs/{runId}?wait=2m");
        Assert.Equal(200, status);
        return body;
    }

    /// <summary>The run once it has ended for good; unlike <see cref="EndedRunAsync"/>, a rest for a person is not an end.</summary>
    public static Task<JsonElement> TerminalRunAsync(this HttpClient http, string runId) =>
        http.UntilAsync($"/api/runs/{runId}", run => run.Status() is "Succeeded" or "Failed" or "Cancelled" or "TimedOut" ? run : null, "the run never ended");

    /// <summary>The step once the run rests on it, waiting for a person.</summary>
    public static Task<JsonElement> WaitingStepAsync(this HttpClient http, string runId, int sequence) =>
        http.UntilAsync(
            $"/api/runs/{runId}",
            run => run.Status() == "WaitingForHuman"
                && run.GetProperty("steps").EnumerateArray().FirstOrDefault(s => s.GetProperty("sequence").GetInt32() == sequence) is { ValueKind: JsonValueKind.Object } step
                && step.GetProperty("status").GetString() == "WaitingForHuman" ? step : null,
            $"step {sequence} never waited for a person");

    /// <summary>Reads a resource until it shows what is awaited (up to 2 minutes), and returns that part of it.</summary>
    public static async Task<JsonElement> UntilAsync(this HttpClient http, string path, Func<JsonElement, JsonElement?> awaited, string failure)
    {
        var started = TimeProvider.System.GetTimestamp();
        using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (true)
        {
            var (_, body) = await http.SendAsync(HttpMethod.Get, path);
            if (awaited(body) is { } found)
            {
                return found;
            }

            Assert.True(TimeProvider.System.GetElapsedTime(started) < TimeSpan.FromMinutes(2), $"{failure}: {body}");
            await tick.WaitForNextTickAsync();
        }
    }

    public static string Status(this JsonElement runAndSteps) => runAndSteps.GetProperty("run").GetProperty("status").GetString()!;

    public static IReadOnlyList<(string Name, string Status, string Output)> Steps(this JsonElement runAndSteps) =>
        [.. runAndSteps.GetProperty("steps").EnumerateArray().Select(s => (s.GetProperty("name").GetString()!, s.GetProperty("status").GetString()!, s.GetProperty("output").GetString()!))];
}
