using System.Net;
using System.Net.Sockets;
using RunbookEngine.Slos;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Tests.Slos;

public sealed class PrometheusClientTests
{
    [Fact]
    public void ParseResponse_OfAVectorOfOneSeries_ReadsItsValue()
    {
        var value = PrometheusClient.ParseResponse(HttpStatusCode.OK,
            """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"service":"checkout"},"value":[1733390000.123,"0.99875"]}]}}""");

        Assert.Equal(0.99875, value);
    }

    [Fact]
    public void ParseResponse_OfAScalar_ReadsItsValue()
    {
        Assert.Equal(1.5, PrometheusClient.ParseResponse(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"scalar","result":[1733390000,"1.5"]}}"""));
    }

    [Theory]
    [InlineData("NaN", double.NaN)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("-Inf", double.NegativeInfinity)]
    [InlineData("1e-3", 0.001)]
    public void ParseResponse_OfSpecialValues_KeepsThem(string text, double expected)
    {
        var value = PrometheusClient.ParseResponse(HttpStatusCode.OK, $$$"""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"{{{text}}}"]}]}}""");

        Assert.Equal(expected, value);
    }

    [Theory]
    [InlineData(HttpStatusCode.BadRequest, """{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:6: parse error: unexpected <EOF>"}""",
        "Prometheus refused the query (400, bad_data): invalid parameter \"query\": 1:6: parse error: unexpected <EOF>")]
    [InlineData(HttpStatusCode.ServiceUnavailable, """{"status":"error","errorType":"timeout","error":"query timed out in expression evaluation"}""",
        "Prometheus refused the query (503, timeout): query timed out in expression evaluation")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"vector","result":[]}}""",
        "the query returned no series: check its metric names and labels, and that Prometheus has data for the whole range")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}""",
        "the query returned 2 series; aggregate it to one, e.g. with sum(...)")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"matrix","result":[]}}""",
        "the query returned a matrix where one number was expected; use an instant vector of one series or a scalar")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"lots"]}]}}""",
        "Prometheus answered a value that is not a number: lots")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}}""",
        "Prometheus answered a sample that is not [time, \"value\"]: (none)")]
    [InlineData(HttpStatusCode.OK, """{"status":"success"}""",
        "Prometheus answered success without data.resultType and data.result: {\"status\":\"success\"}")]
    [InlineData(HttpStatusCode.BadGateway, "<html>Bad Gateway</html>",
        "Prometheus answered 502 with a body that is not its API's JSON: <html>Bad Gateway</html>")]
    [InlineData(HttpStatusCode.OK, "[]", "Prometheus answered 200 without a status: []")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":7,"result":[]}}""",
        "Prometheus answered success without data.resultType and data.result: {\"status\":\"success\",\"data\":{\"resultType\":7,\"result\":[]}}")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"vector","result":["0.5"]}}""",
        "Prometheus answered a sample that is not [time, \"value\"]: (none)")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"vector","result":{"value":[1,"1"]}}}""",
        "the query returned a vector where one number was expected; use an instant vector of one series or a scalar")]
    [InlineData(HttpStatusCode.OK, """{"status":"success","warnings":["PromQL info: metric might not be a counter, name does not end in _total"],"data":{"resultType":"vector","result":[{"metric":{},"value":[1,"0.5"]}]}}""",
        "Prometheus answered with a warning: PromQL info: metric might not be a counter, name does not end in _total")]
    public void ParseResponse_OfAnythingButOneNumber_SaysWhat(HttpStatusCode status, string body, string expected)
    {
        var error = Assert.Throws<PrometheusQueryException>(() => PrometheusClient.ParseResponse(status, body));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public async Task QueryAsync_OfAPrometheusThatIsNotListening_SaysItCouldNotBeReached()
    {
        using var http = new HttpClient();
        // Bound but not listening: nothing can take the port and answer while the test runs.
        using var bound = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        bound.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var address = new Uri($"http://127.0.0.1:{((IPEndPoint)bound.LocalEndPoint!).Port}/");
        var client = new PrometheusClient(http, address, TimeSpan.FromSeconds(5));

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => client.QueryAsync("up", DateTimeOffset.UnixEpoch, CancellationToken.None));

        Assert.StartsWith($"Prometheus at {address} could not be reached: ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryAsync_OfAPrometheusThatNeverAnswers_TimesOut()
    {
        // Accepts the connection and never writes: the client's own timeout must end the query.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var accepting = listener.AcceptTcpClientAsync();
        using var http = new HttpClient();
        var address = new Uri($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");
        var client = new PrometheusClient(http, address, TimeSpan.FromMilliseconds(300));

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => client.QueryAsync("up", DateTimeOffset.UnixEpoch, CancellationToken.None));

        Assert.Equal($"Prometheus at {address} did not answer within 0.3 s", error.Message);
        using var accepted = await accepting;
    }

    [Fact]
    public async Task QueryAsync_OfAnAnswerOverOneMebibyte_StopsReadingAndSaysSo()
    {
        await using var prometheus = new Oversized();
        using var http = new HttpClient();
        var client = new PrometheusClient(http, prometheus.Address, TimeSpan.FromSeconds(30));

        var error = await Assert.ThrowsAsync<PrometheusQueryException>(() => client.QueryAsync("up", DateTimeOffset.UnixEpoch, CancellationToken.None));

        Assert.Equal($"Prometheus at {prometheus.Address} answered more than 1 MiB; the query must answer one number (aggregate it, e.g. with sum(...))", error.Message);
    }

    /// <summary>Answers every query with 2 MiB of series, in chunks, so the size is not known in advance.</summary>
    private sealed class Oversized : LoopbackHttpServer
    {
        public Oversized() => Listen();

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            context.Response.SendChunked = true;
            var series = System.Text.Encoding.UTF8.GetBytes(new string(' ', 64 * 1024));
            try
            {
                for (var i = 0; i < 32; i++)
                {
                    await context.Response.OutputStream.WriteAsync(series);
                }
            }
            catch (HttpListenerException)
            {
                // The client stopped reading, as it should.
            }
        }
    }
}
