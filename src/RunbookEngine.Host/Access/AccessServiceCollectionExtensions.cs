using System.Net;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.HostFiltering;
using Microsoft.AspNetCore.HttpOverrides;
using RunbookEngine.Access;

namespace RunbookEngine.Host.Access;

/// <summary>
/// Who may reach what, on ASP.NET Core's own pieces: host filtering against DNS rebinding, forwarded headers from known
/// proxies only, three authentication schemes (bearer token, sign-in cookie, trusted loopback) combined per endpoint
/// group, authorization policies on the groups, and antiforgery for the dashboard's forms. Cookies and anti-forgery
/// tokens are protected with the key ring every node shares (see <c>AddRunbookDataProtection</c>).
/// </summary>
internal static class AccessServiceCollectionExtensions
{
    /// <summary>The names a request may give as its <c>Host</c> whatever the settings say: this machine's.</summary>
    private static readonly string[] LocalNames = ["localhost", "127.0.0.1", "[::1]"];

    public static IServiceCollection AddRunbookAccess(this IServiceCollection services, RunbookEngineOptions engine)
    {
        services.AddSingleton<AccessTokens>();

        // WebApplication already runs host filtering first in the pipeline; this gives it our names instead of "*".
        services.Configure<HostFilteringOptions>(o => o.AllowedHosts = [.. LocalNames, .. engine.Access.AllowedHosts]);
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the proxies the settings name: by default ASP.NET Core would believe any process on loopback.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in engine.Access.KnownProxies)
            {
                o.KnownProxies.Add(IPAddress.Parse(proxy));
            }
        });

        // No default scheme: each group's policy names its schemes, so requests to the open routes (webhooks, which carry
        // their own bearer tokens) are not taken for API callers and logged as failed sign-ins.
        services.AddAuthentication()
            .AddScheme<AccessSchemeOptions, AccessHandler>(AccessIdentity.AnyScheme, o => (o.CookieWrites, o.RedirectToSignIn) = (true, true))
            .AddScheme<AccessSchemeOptions, AccessHandler>(AccessIdentity.ApiScheme, o => (o.CookieWrites, o.RedirectToSignIn) = (false, false))
            .AddScheme<AuthenticationSchemeOptions, BearerTokenHandler>(AccessIdentity.BearerScheme, null)
            .AddScheme<AuthenticationSchemeOptions, LoopbackHandler>(AccessIdentity.LoopbackScheme, null)
            .AddCookie(AccessIdentity.CookieScheme, o =>
            {
                o.Cookie.Name = "rbe-signin";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                // Secure whenever the browser came in over HTTPS, including through a known proxy that terminated TLS.
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                // The expiry is inside the encrypted ticket, so the server enforces it whatever the browser keeps.
                o.ExpireTimeSpan = engine.Access.SignInLifetime;
                o.SlidingExpiration = false;
                o.Events = new CookieAuthenticationEvents
                {
                    OnValidatePrincipal = context =>
                    {
                        // A sign-in stands only while its token does: removed or changed in configuration, it is over.
                        var tokens = context.HttpContext.RequestServices.GetRequiredService<AccessTokens>();
                        if (context.Principal?.Identity?.Name is not { } name || context.Principal.FindFirst(AccessIdentity.TokenClaim)?.Value is not { } fingerprint
                            || !tokens.StillHolds(name, fingerprint))
                        {
                            context.RejectPrincipal();
                        }

                        return Task.CompletedTask;
                    },
                };
            });

        services.AddAuthorizationBuilder()
            .AddPolicy(AccessIdentity.ApiPolicy, p => p.AddAuthenticationSchemes(AccessIdentity.ApiScheme).RequireAuthenticatedUser())
            .AddPolicy(AccessIdentity.DashboardPolicy, p => p.AddAuthenticationSchemes(AccessIdentity.AnyScheme).RequireAuthenticatedUser())
            // Lets anyone in but says who they are, for open endpoints that tell trusted callers more (/readyz).
            .AddPolicy(AccessIdentity.IdentifyPolicy, p => p.AddAuthenticationSchemes(AccessIdentity.AnyScheme).RequireAssertion(_ => true));

        services.AddAntiforgery(o =>
        {
            o.FormFieldName = "csrf";
            // Our forms post the field; Hangfire's dashboard posts the header. Neither can be set by another site's page.
            o.HeaderName = "X-RBE-CSRF";
            o.Cookie.Name = "rbe-csrf";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        });
        return services;
    }

    /// <summary>Forwarded headers (from known proxies only), then authentication and authorization.</summary>
    public static WebApplication UseRunbookAccess(this WebApplication app, RunbookEngineOptions engine)
    {
        if (engine.Access.KnownProxies.Count > 0)
        {
            app.UseForwardedHeaders();
        }

        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }
}
