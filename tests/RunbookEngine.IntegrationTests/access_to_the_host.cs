using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// Who may use the API and the dashboard. The hosts here bind to loopback like every test host; a host told not to
/// trust loopback (as behind a local reverse proxy) treats its callers exactly as it treats remote ones.
/// </summary>
public sealed partial class access_to_the_host : IAsyncLifetime
{
    private HostWorkspace _guarded = null!;

    public async Task InitializeAsync() => _guarded = await HostWorkspace.StartAsync(new Dictionary<string, string>
    {
        ["RunbookEngine__Access__TrustLoopback"] = "false",
        ["RunbookEngine__Access__Tokens__ops"] = "s3cret-token",
    });

    public async Task DisposeAsync() => await _guarded.DisposeAsync();

    [Fact]
    public async Task the_api_answers_a_caller_it_does_not_trust_only_with_a_token_and_records_the_token_holder()
    {
        using var anonymous = await Send(HttpMethod.Get, "/api/runs");
        using var wrong = await Send(HttpMethod.Get, "/api/runs", token: "guess");
        using var right = await Send(HttpMethod.Get, "/api/runs", token: "s3cret-token");
        using var health = await Send(HttpMethod.Get, "/healthz");
        using var hook = await Send(HttpMethod.Post, "/hooks/generic", json: """{"name": "Anything"}""");
        using var metrics = await Send(HttpMethod.Get, "/metrics");
        using var trigger = await Send(HttpMethod.Post, "/api/runbooks/hello/runs", token: "s3cret-token", json: """{"parameters": {"who": "x"}, "by": "mallory"}""");
        var runId = Regex.Match(await trigger.Content.ReadAsStringAsync(), "\"runId\":\"([0-9a-f]+)\"").Groups[1].Value;
        using var run = await Send(HttpMethod.Get, $"/api/runs/{runId}", token: "s3cret-token");

        Assert.Equal((HttpStatusCode.Unauthorized, "Bearer"), (anonymous.StatusCode, anonymous.Headers.WwwAuthenticate.ToString()));
        Assert.Contains("Authorization: Bearer", await anonymous.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, hook.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
        Assert.Contains("\"triggeredBy\":\"ops\"", await run.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task the_dashboard_sends_a_caller_it_does_not_trust_to_sign_in_and_then_knows_them()
    {
        using var cookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var browser = new HttpClient(cookies) { BaseAddress = _guarded.Host.Address };

        using var first = await browser.GetAsync("/?status=Failed");
        var form = await browser.GetStringAsync("/signin");
        var csrf = Regex.Match(form, "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value;
        using var badToken = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["token"] = "guess", ["return"] = "/" }));
        using var noCsrf = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "s3cret-token" }));
        using var signIn = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["token"] = "s3cret-token", ["return"] = "/?status=Failed" }));
        var runs = await browser.GetStringAsync("/");
        using var apiRead = await browser.GetAsync("/api/runs");
        using var apiWrite = await browser.PostAsync("/api/runbooks/hello/runs", new StringContent("""{"parameters": {"who": "x"}}""", MediaTypeHeaderValue.Parse("application/json")));

        Assert.Equal((HttpStatusCode.Redirect, "/signin?return=%2F%3Fstatus%3DFailed"), (first.StatusCode, first.Headers.Location?.OriginalString));
        Assert.StartsWith("/signin?error=1", badToken.Headers.Location?.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, noCsrf.StatusCode);
        Assert.Equal((HttpStatusCode.Redirect, "/?status=Failed"), (signIn.StatusCode, signIn.Headers.Location?.OriginalString));
        Assert.Contains("signed in as ops", runs, StringComparison.Ordinal);
        Assert.Equal((HttpStatusCode.OK, HttpStatusCode.Unauthorized), (apiRead.StatusCode, apiWrite.StatusCode));
    }

    [Fact]
    public async Task a_trusted_local_host_still_refuses_cross_site_writes_and_forms_without_their_token()
    {
        await using var local = await HostWorkspace.StartAsync();
        using var http = new HttpClient { BaseAddress = local.Host.Address };

        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/api/runbooks/hello/runs") { Content = new StringContent("""{"parameters": {"who": "x"}}""") };
        crossSite.Headers.Add("Origin", "http://evil.example");
        using var refused = await http.SendAsync(crossSite);
        using var plain = await http.PostAsync("/api/runbooks/hello/runs", new StringContent("""{"parameters": {"who": "x"}}""", MediaTypeHeaderValue.Parse("application/json")));
        using var forged = await http.PostAsync("/runbooks/hello/start", new FormUrlEncodedContent(new Dictionary<string, string> { ["p.who"] = "x", ["by"] = "mallory" }));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, plain.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
    }

    private async Task<HttpResponseMessage> Send(HttpMethod method, string path, string? token = null, string? json = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = json is null ? null : new StringContent(json, MediaTypeHeaderValue.Parse("application/json")) };
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return await _guarded.Http.SendAsync(request);
    }
}
