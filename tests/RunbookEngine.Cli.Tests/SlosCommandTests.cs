using System.Net;
using RunbookEngine.TestSupport;

namespace RunbookEngine.Cli.Tests;

/// <summary><c>runbook slos</c> against a host that answers <c>GET /api/slos</c> with a canned body.</summary>
public sealed class SlosCommandTests
{
    private const string Slos = """
        {"slos":[
          {"name":"checkout","service":"checkout","objective":99.9,"window":"28d","sli":99.95,"budgetRemainingPercent":50,"burnRate":0.5,"state":"ok","evaluatedAt":"2026-12-05T10:00:00+00:00"},
          {"name":"payments","objective":99.9,"window":"28d","state":"unknown","evaluatedAt":"2026-12-05T10:00:00+00:00","error":"Prometheus at http://prometheus:9090/ did not answer within 10 s"}]}
        """;

    [Fact]
    public async Task Slos_PrintsEachBudget_AndWhyAnUnknownOneIsUnknown()
    {
        await using var host = new CannedHost(200, Slos);

        var result = await RunAsync("slos", "--server", host.Address.ToString());

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("/api/slos", host.LastPath);
        var rows = result.StdOut.Split('\n').Where(line => line.StartsWith('│')).Select(line => line.Trim().Trim('│').Split('│').Select(cell => cell.Trim()).ToArray()).ToList();
        Assert.Equal(["checkout", "99.9%", "28d", "99.95%", "50%", "0.5×", "ok"], rows[1]);
        Assert.Equal(["payments", "99.9%", "28d", "–", "–", "–", "unknown"], rows[2]);
        Assert.Contains("payments is unknown: Prometheus at http://prometheus:9090/ did not answer within 10 s", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slos_WithNoneConfigured_SaysWhereTheyAreConfigured()
    {
        await using var host = new CannedHost(200, """{"slos":[]}""");

        var result = await RunAsync("slos", "--server", host.Address.ToString());

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("no SLOs are configured on this host (RunbookEngine:Slos)", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Slos_WhenTheHostRefuses_PrintsItsErrorAndFails()
    {
        await using var host = new CannedHost(401, """{"error":"a bearer token is needed"}""");

        var result = await RunAsync("slos", "--server", host.Address.ToString());

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("answered 401: a bearer token is needed", result.StdErr, StringComparison.Ordinal);
    }

    private static Task<CliResult> RunAsync(params string[] arguments) =>
        Cli.RunAsync(Path.GetTempPath(), Path.Combine(Path.GetTempPath(), "runbook-cli-slos-tests-cache"), null, arguments);

    /// <summary>A host that answers every request with the same status and body.</summary>
    private sealed class CannedHost : LoopbackHttpServer
    {
        private readonly int _status;
        private readonly string _body;

        public CannedHost(int status, string body)
        {
            _status = status;
            _body = body;
            Listen();
        }

        public string? LastPath { get; private set; }

        protected override async Task HandleAsync(HttpListenerContext context)
        {
            LastPath = context.Request.Url!.AbsolutePath;
            context.Response.StatusCode = _status;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(System.Text.Encoding.UTF8.GetBytes(_body));
        }
    }
}
