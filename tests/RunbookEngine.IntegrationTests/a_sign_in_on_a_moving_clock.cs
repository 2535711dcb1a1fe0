using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RunbookEngine.Access;
using RunbookEngine.Host.Access;

namespace RunbookEngine.IntegrationTests;

/// <summary>
/// The host's access pipeline (its schemes, policies and cookie settings, as <c>AddRunbookAccess</c> registers them) on a
/// test server whose clock the test moves: a sign-in expires on the server after <c>SignInLifetime</c>, whatever the
/// browser keeps, and does not slide.
/// </summary>
public sealed class a_sign_in_on_a_moving_clock
{
    [Fact]
    public async Task ends_on_the_server_when_its_lifetime_is_over_even_if_it_was_used_meanwhile()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
        var engine = new RunbookEngineOptions();
        engine.Access.TrustLoopback = false;
        engine.Access.Tokens["ops"] = "s3cret-token";
        engine.Access.SignInLifetime = TimeSpan.FromHours(1);

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.Configure<RunbookEngineOptions>(o => o.Access = engine.Access);
        builder.Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        builder.Services.AddRunbookAccess(engine);
        builder.Services.PostConfigure<CookieAuthenticationOptions>(AccessIdentity.CookieScheme, o => o.TimeProvider = clock);
        await using var app = builder.Build();
        app.UseRunbookAccess(engine);
        app.MapGet("/", (HttpContext context) => AccessIdentity.Name(context.User)).RequireAuthorization(AccessIdentity.DashboardPolicy);
        app.MapPost("/signin", (HttpContext context) => context.SignInAsync(
            AccessIdentity.CookieScheme, AccessIdentity.TokenHolder("ops", AccessIdentity.CookieScheme, AccessTokens.Fingerprint("s3cret-token")))).AllowAnonymous();
        await app.StartAsync();
        using var http = app.GetTestClient();

        using var signIn = await http.PostAsync(new Uri("/signin", UriKind.Relative), null);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("rbe-signin=", StringComparison.Ordinal)).Split(';')[0];

        var answers = new List<(TimeSpan After, HttpStatusCode Status)>();
        foreach (var after in new[] { TimeSpan.Zero, TimeSpan.FromMinutes(50), TimeSpan.FromMinutes(61) })
        {
            clock.SetUtcNow(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero) + after);
            using var request = new HttpRequestMessage(HttpMethod.Get, "/");
            request.Headers.Add("Cookie", cookie);
            using var response = await http.SendAsync(request);
            answers.Add((after, response.StatusCode));
        }

        Assert.Equal(
            [(TimeSpan.Zero, HttpStatusCode.OK), (TimeSpan.FromMinutes(50), HttpStatusCode.OK), (TimeSpan.FromMinutes(61), HttpStatusCode.Redirect)],
            answers);
    }
}
