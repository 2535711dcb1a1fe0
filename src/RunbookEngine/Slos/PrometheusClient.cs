using System.Globalization;
using System.Net;
using System.Text.Json;

namespace RunbookEngine.Slos;

/// <summary>
/// Instant queries against the Prometheus HTTP API (<c>GET /api/v1/query</c>), each expected to answer one number. Every
/// way of not getting one (no connection, a timeout, <c>"status":"error"</c>, no series, several) is a
/// <see cref="PrometheusQueryException"/> saying which, so an SLO is unknown rather than healthy.
/// </summary>
public sealed class PrometheusClient
{
    /// <summary>The named HttpClient this client uses.</summary>
    public const string HttpClientName = "prometheus";

    // Enough of an error body to say what went wrong, not a whole HTML page from a proxy in front of Prometheus.
    private const int MaxQuotedBody = 300;

    /// <summary>The largest answer read: one number is a few hundred bytes, so more is a query answering many series.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    private readonly HttpClient _http;
    private readonly Uri _baseAddress;
    private readonly TimeSpan _timeout;

    /// <summary>Creates the client.</summary>
    /// <param name="http">The HTTP client (its own timeout is not relied on).</param>
    /// <param name="baseAddress">The Prometheus base address.</param>
    /// <param name="timeout">How long one query may take.</param>
    public PrometheusClient(HttpClient http, Uri baseAddress, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(baseAddress);
        _http = http;
        _baseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
        _timeout = timeout;
    }

    /// <summary>Runs an instant query and returns its one value.</summary>
    /// <param name="query">PromQL answering one series or a scalar.</param>
    /// <param name="at">The evaluation instant; the queries of one evaluation share it, so a good/total pair covers the same range.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The value (NaN or an infinity when Prometheus says so).</returns>
    /// <exception cref="PrometheusQueryException">Prometheus could not be asked, or did not answer one number.</exception>
    public async Task<double> QueryAsync(string query, DateTimeOffset at, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var address = new Uri(_baseAddress, "api/v1/query?query=" + Uri.EscapeDataString(query)
            + "&time=" + (at.ToUnixTimeMilliseconds() / 1000.0).ToString("0.000", CultureInfo.InvariantCulture));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_timeout);
        HttpStatusCode status;
        string body;
        try
        {
            using var response = await _http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            status = response.StatusCode;
            body = await ReadCappedAsync(response.Content, timeout.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new PrometheusQueryException($"Prometheus at {_baseAddress} did not answer within {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new PrometheusQueryException($"Prometheus at {_baseAddress} could not be reached: {ex.Message}", ex);
        }
        catch (IOException ex)
        {
            throw new PrometheusQueryException($"Prometheus at {_baseAddress} broke off its answer: {ex.Message}", ex);
        }

        return ParseResponse(status, body);
    }

    private async Task<string> ReadCappedAsync(HttpContent content, CancellationToken cancellationToken)
    {
        if (content.Headers.ContentLength > MaxBodyBytes)
        {
            throw TooLarge();
        }

        await using var stream = await content.ReadAsStreamAsync(cancellationToken);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await stream.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                throw TooLarge();
            }

            buffer.Write(chunk, 0, read);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private PrometheusQueryException TooLarge() =>
        new($"Prometheus at {_baseAddress} answered more than {MaxBodyBytes / (1024 * 1024)} MiB; the query must answer one number (aggregate it, e.g. with sum(...))");

    /// <summary>Reads an answer of <c>/api/v1/query</c> as one number.</summary>
    /// <param name="status">The HTTP status.</param>
    /// <param name="body">The body.</param>
    /// <returns>The value.</returns>
    /// <exception cref="PrometheusQueryException">The answer is an error or not one number.</exception>
    public static double ParseResponse(HttpStatusCode status, string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new PrometheusQueryException($"Prometheus answered {(int)status} with a body that is not its API's JSON: {Quote(body)}");
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out var state) || state.ValueKind != JsonValueKind.String)
        {
            throw new PrometheusQueryException($"Prometheus answered {(int)status} without a status: {Quote(body)}");
        }

        if (state.GetString() != "success")
        {
            var type = root.TryGetProperty("errorType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : "unknown";
            var error = root.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : "(no message)";
            throw new PrometheusQueryException($"Prometheus refused the query ({(int)status}, {type}): {error}");
        }

        if (!root.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Object
            || !data.TryGetProperty("resultType", out var resultType) || resultType.ValueKind != JsonValueKind.String
            || !data.TryGetProperty("result", out var result))
        {
            throw new PrometheusQueryException($"Prometheus answered success without data.resultType and data.result: {Quote(body)}");
        }

        // A warning says the answer may be partial or wrong (e.g. a counter without _total read by rate()): not a figure to gate on.
        if (root.TryGetProperty("warnings", out var warnings) && warnings.ValueKind == JsonValueKind.Array && warnings.GetArrayLength() > 0)
        {
            var first = warnings[0].ValueKind == JsonValueKind.String ? warnings[0].GetString() : warnings[0].GetRawText();
            throw new PrometheusQueryException($"Prometheus answered with a warning: {Quote(first ?? "")}");
        }

        switch (resultType.GetString())
        {
            case "scalar":
                return Sample(result);
            case "vector" when result.ValueKind == JsonValueKind.Array:
                var count = result.GetArrayLength();
                if (count == 0)
                {
                    throw new PrometheusQueryException("the query returned no series: check its metric names and labels, and that Prometheus has data for the whole range");
                }

                if (count > 1)
                {
                    throw new PrometheusQueryException($"the query returned {count.ToString(CultureInfo.InvariantCulture)} series; aggregate it to one, e.g. with sum(...)");
                }

                return Sample(result[0].ValueKind == JsonValueKind.Object && result[0].TryGetProperty("value", out var value) ? value : default);
            default:
                throw new PrometheusQueryException($"the query returned a {resultType.GetString()} where one number was expected; use an instant vector of one series or a scalar");
        }
    }

    // A sample is [unix seconds, "value"]: the value is a string so NaN and infinities survive JSON.
    private static double Sample(JsonElement sample)
    {
        if (sample.ValueKind != JsonValueKind.Array || sample.GetArrayLength() != 2 || sample[1].ValueKind != JsonValueKind.String)
        {
            throw new PrometheusQueryException($"Prometheus answered a sample that is not [time, \"value\"]: {Quote(sample.ValueKind == JsonValueKind.Undefined ? "(none)" : sample.GetRawText())}");
        }

        var text = sample[1].GetString()!;
        return text switch
        {
            "NaN" => double.NaN,
            "+Inf" or "Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            _ when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) => number,
            _ => throw new PrometheusQueryException($"Prometheus answered a value that is not a number: {Quote(text)}"),
        };
    }

    private static string Quote(string text) => text.Length <= MaxQuotedBody ? text : text[..MaxQuotedBody] + "...";
}
