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

    /// <summary>
    /// Posts a body of <paramref name="length"/> bytes chunked, with no Content-Length, so only reading it can tell the
    /// server how large it is.
    /// </summary>
    public static async Task<(int Status, JsonElement Body)> PostChunkedAsync(this HttpClient http, string path, long length, IReadOnlyDictionary<string, string> headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StreamContent(new FillerStream(length)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        foreach (var (name, value) in headers)
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

    /// <summary>Spaces, as many as asked, from a stream that cannot say its length.</summary>
    private sealed class FillerStream(long length) : Stream
    {
        private long _left = length;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = (int)Math.Min(count, _left);
            buffer.AsSpan(offset, n).Fill((byte)' ');
            _left -= n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
