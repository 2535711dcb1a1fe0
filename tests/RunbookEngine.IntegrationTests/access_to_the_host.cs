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

    [Fact]
    public async Task a_page_on_a_name_rebound_to_this_machine_is_refused_on_every_route_and_starts_nothing()
    {
        await using var local = await HostWorkspace.StartAsync(new Dictionary<string, string> { ["RunbookEngine__Access__AllowedHosts__0"] = "runbooks.example.com" });
        using var http = new HttpClient { BaseAddress = local.Host.Address };

        // What a DNS-rebinding page sends: its own name as Host, its own origin, from the operator's browser on 127.0.0.1.
        var refused = new List<(string Route, HttpStatusCode Status)>();
        foreach (var (method, path, body) in new (HttpMethod, string, string?)[]
        {
            (HttpMethod.Post, "/api/runbooks/hello/runs", """{"parameters": {"who": "x"}}"""),
            (HttpMethod.Get, "/api/runs", null),
            (HttpMethod.Get, "/", null),
            (HttpMethod.Get, "/metrics", null),
            (HttpMethod.Post, "/hooks/generic", """{"name": "Anything"}"""),
            (HttpMethod.Post, "/runbooks/hello/start", null),
        })
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : new StringContent(body, MediaTypeHeaderValue.Parse("application/json")) };
            request.Headers.Host = "rebind.attacker.example:5080";
            request.Headers.Add("Origin", "http://rebind.attacker.example:5080");
            using var response = await http.SendAsync(request);
            refused.Add((path, response.StatusCode));
        }

        // A name from RunbookEngine:Access:AllowedHosts is this host's own.
        using var named = new HttpRequestMessage(HttpMethod.Get, "/api/runs");
        named.Headers.Host = "runbooks.example.com";
        using var allowed = await http.SendAsync(named);

        Assert.All(refused, r => Assert.Equal(HttpStatusCode.BadRequest, r.Status));
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        var runs = await http.GetStringAsync("/api/runs");
        Assert.DoesNotContain("\"hello\"", runs, StringComparison.Ordinal);
    }

    [Fact]
    public async Task a_form_token_issued_to_someone_else_or_planted_by_a_same_site_page_is_refused()
    {
        await using var guarded = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Access__TrustLoopback"] = "false",
            ["RunbookEngine__Access__Tokens__ops"] = "s3cret-token",
            ["RunbookEngine__Access__Tokens__dev"] = "other-token",
        });
        var (ops, opsCookies) = await SignedInAsync(guarded, "s3cret-token");
        var (dev, _) = await SignedInAsync(guarded, "other-token");
        using var anonymousCookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var anonymous = new HttpClient(anonymousCookies) { BaseAddress = guarded.Host.Address };
        var anonymousField = FormToken(await anonymous.GetStringAsync("/signin"));
        var devField = FormToken(await dev.GetStringAsync("/runbooks/hello"));

        // A same-site page can set cookies for this host and fill in the form: with the pair an anonymous visit got ...
        opsCookies.CookieContainer.Add(guarded.Host.Address, new Cookie("rbe-csrf", anonymousCookies.CookieContainer.GetCookies(guarded.Host.Address)["rbe-csrf"]!.Value));
        using var plantedAnonymous = await ops.PostAsync("/runbooks/hello/start", Form(anonymousField));
        // ... with the pair another person was given ...
        using var othersField = await ops.PostAsync("/runbooks/hello/start", Form(devField));
        // ... or with a value of its own in both, as the old double-submit cookie accepted.
        opsCookies.CookieContainer.Add(guarded.Host.Address, new Cookie("rbe-csrf", "0123456789abcdef0123456789abcdef"));
        using var doubleSubmit = await ops.PostAsync("/runbooks/hello/start", Form("0123456789abcdef0123456789abcdef"));
        // The form as the dashboard renders it for ops still works.
        var own = FormToken(await ops.GetStringAsync("/runbooks/hello"));
        using var genuine = await ops.PostAsync("/runbooks/hello/start", Form(own));

        Assert.Equal(
            (HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Redirect),
            (plantedAnonymous.StatusCode, othersField.StatusCode, doubleSubmit.StatusCode, genuine.StatusCode));
        Assert.StartsWith("/runs/", genuine.Headers.Location?.OriginalString, StringComparison.Ordinal);
        ops.Dispose();
        dev.Dispose();

        static FormUrlEncodedContent Form(string csrf) => new(new Dictionary<string, string> { ["csrf"] = csrf, ["p.who"] = "x" });
    }

    [Fact]
    public async Task a_sign_in_cookie_is_signed_survives_a_restart_and_ends_when_its_token_leaves_the_configuration()
    {
        await using var guarded = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Access__TrustLoopback"] = "false",
            ["RunbookEngine__Access__Tokens__ops"] = "s3cret-token",
            ["RunbookEngine__Access__Tokens__dev"] = "other-token",
        });
        var (ops, cookies) = await SignedInAsync(guarded, "s3cret-token");
        var signIn = cookies.CookieContainer.GetCookies(guarded.Host.Address)["rbe-signin"]!;
        using var tamperedCookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        tamperedCookies.CookieContainer.Add(guarded.Host.Address, new Cookie("rbe-signin", signIn.Value[..^4] + (signIn.Value.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA")));
        using var tampered = new HttpClient(tamperedCookies) { BaseAddress = guarded.Host.Address };
        // The old cookie's shape, a name and a hash anyone can compute from a leaked token, is no sign-in any more.
        using var forgedCookies = new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false };
        using var forged = new HttpClient(forgedCookies) { BaseAddress = guarded.Host.Address };
        using var forgedName = new HttpRequestMessage(HttpMethod.Get, "/");
        forgedName.Headers.Add("Cookie", "rbe-signin=ops:" + new string('0', 64));

        using var tamperedAnswer = await tampered.GetAsync("/");
        using var forgedAnswer = await forged.SendAsync(forgedName);
        Assert.Equal(HttpStatusCode.Redirect, tamperedAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, forgedAnswer.StatusCode);

        // The key ring is in the store, so a restarted node (or any other node) still reads the cookie ...
        await guarded.RestartAsync();
        using var afterRestart = await ops.GetAsync(new Uri(guarded.Host.Address, "/"));
        Assert.Equal(HttpStatusCode.OK, afterRestart.StatusCode);

        // ... until the operator takes the token out of the configuration.
        await guarded.RestartAsync(new Dictionary<string, string?> { ["RunbookEngine__Access__Tokens__ops"] = null });
        using var afterRemoval = await ops.GetAsync(new Uri(guarded.Host.Address, "/"));
        Assert.Equal(HttpStatusCode.Redirect, afterRemoval.StatusCode);
        Assert.StartsWith("/signin", afterRemoval.Headers.Location?.OriginalString, StringComparison.Ordinal);
        ops.Dispose();
    }

    [Fact]
    public async Task a_sign_in_cookie_is_secure_behind_a_known_proxy_that_terminated_tls_and_returns_only_to_this_site()
    {
        await using var proxied = await HostWorkspace.StartAsync(new Dictionary<string, string>
        {
            ["RunbookEngine__Access__TrustLoopback"] = "false",
            ["RunbookEngine__Access__Tokens__ops"] = "s3cret-token",
            ["RunbookEngine__Access__KnownProxies__0"] = "127.0.0.1",
        });

        // Through the known proxy, over HTTPS: Secure. The same header on a host that knows no proxy is not believed.
        var behindProxy = await SignInCookieAsync(proxied, "/", forwardedProto: "https");
        var plain = await SignInCookieAsync(proxied, "/", forwardedProto: null);
        var unbelieved = await SignInCookieAsync(_guarded, "/", forwardedProto: "https");
        Assert.Contains("secure", behindProxy.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", plain.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", unbelieved.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("httponly", plain.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", plain.SetCookie, StringComparison.OrdinalIgnoreCase);

        // After sign-in the browser goes back only to a path of this site, whatever the link said.
        foreach (var evil in new[] { "/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example/", "/\r\n/evil.example" })
        {
            Assert.Equal("/", (await SignInCookieAsync(_guarded, evil, forwardedProto: null)).Location);
        }

        Assert.Equal("/runs?status=Failed", (await SignInCookieAsync(_guarded, "/runs?status=Failed", forwardedProto: null)).Location);
    }

    private static async Task<(string SetCookie, string? Location)> SignInCookieAsync(HostWorkspace host, string back, string? forwardedProto)
    {
        using var cookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        using var browser = new HttpClient(cookies) { BaseAddress = host.Host.Address };
        var csrf = FormToken(await browser.GetStringAsync("/signin"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/signin")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["token"] = "s3cret-token", ["return"] = back }),
        };
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
            request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        }

        using var response = await browser.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = response.Headers.TryGetValues("Set-Cookie", out var values) ? values.FirstOrDefault(v => v.StartsWith("rbe-signin=", StringComparison.Ordinal)) : null;
        return (setCookie ?? throw new InvalidOperationException("no sign-in cookie was set"), response.Headers.Location?.OriginalString);
    }

    private static async Task<(HttpClient Browser, HttpClientHandler Cookies)> SignedInAsync(HostWorkspace host, string token)
    {
        var cookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
        var browser = new HttpClient(cookies) { BaseAddress = host.Host.Address };
        var csrf = FormToken(await browser.GetStringAsync("/signin"));
        using var signIn = await browser.PostAsync("/signin", new FormUrlEncodedContent(new Dictionary<string, string> { ["csrf"] = csrf, ["token"] = token, ["return"] = "/" }));
        Assert.Equal((HttpStatusCode.Redirect, "/"), (signIn.StatusCode, signIn.Headers.Location?.OriginalString));
        return (browser, cookies);
    }

    private static string FormToken(string page) => Regex.Match(page, "name=\"csrf\" value=\"([^\"]+)\"").Groups[1].Value is { Length: > 0 } token
        ? token
        : throw new InvalidOperationException("the page has no anti-forgery field");

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
