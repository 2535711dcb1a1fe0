using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Dashboard;

/// <summary>
/// Who may use the API and the dashboard. Loopback callers may, as themselves; anyone else needs a token from
/// <c>RunbookEngine:Access:Tokens</c>, as <c>Authorization: Bearer</c> (API, CLI) or through the dashboard's sign-in,
/// which keeps the token's name and hash in a cookie (no server-side session, so any node of a cluster accepts it).
/// Webhooks and health checks have their own rules and pass through.
/// </summary>
public sealed class AccessControl(RequestDelegate next, AccessControlTokens tokens)
{
    internal const string SignInCookie = "rbe-signin";

    private static readonly object IdentityKey = new();

    /// <summary>The name of the signed-in caller (a token's name), or null for an anonymous loopback caller.</summary>
    /// <param name="context">The request.</param>
    /// <returns>The name or null.</returns>
    public static string? Identity(HttpContext context) => context?.Items[IdentityKey] as string;

    /// <summary>Lets the request through, or answers 401 / redirects to sign in.</summary>
    /// <param name="context">The request.</param>
    /// <returns>A task.</returns>
    public async Task InvokeAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var path = context.Request.Path;
        if (path.StartsWithSegments("/hooks") || path == "/healthz" || path == "/readyz" || path == "/signin")
        {
            await next(context);
            return;
        }

        var api = path.StartsWithSegments("/api") || path == "/metrics";
        var bearer = Bearer(context.Request);
        if (bearer is not null)
        {
            if (tokens.Find(bearer) is not { } name)
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, "the bearer token is not one of RunbookEngine:Access:Tokens");
                return;
            }

            context.Items[IdentityKey] = name;
            await next(context);
            return;
        }

        // The sign-in cookie serves the dashboard's pages and forms, and API reads (the dashboard links to a run's source);
        // API writes take bearer tokens only.
        var reading = HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method);
        if ((!api || reading) && tokens.FromCookie(context.Request) is { } signedIn)
        {
            context.Items[IdentityKey] = signedIn;
            await next(context);
            return;
        }

        if (tokens.TrustLoopback && IsLoopback(context))
        {
            // A web page in the operator's browser can send requests to 127.0.0.1 too; unsafe API calls from another
            // origin are refused (the dashboard's own forms carry an anti-forgery token instead).
            if (api && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method) && IsCrossSite(context.Request))
            {
                await RefuseAsync(context, StatusCodes.Status403Forbidden, "cross-site requests to the API are refused");
                return;
            }

            await next(context);
            return;
        }

        if (api)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "this host answers requests from other machines only with a token: Authorization: Bearer <token> (RunbookEngine:Access:Tokens)");
            return;
        }

        context.Response.Redirect("/signin?return=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString));
    }

    private static string? Bearer(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;

    internal static bool IsLoopback(HttpContext context) => context.Connection.RemoteIpAddress is { } address && IPAddress.IsLoopback(address);

    private static bool IsCrossSite(HttpRequest request) =>
        request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site"
        || (request.Headers.Origin.ToString() is { Length: > 0 } origin && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase));

    private static Task RefuseAsync(HttpContext context, int status, string error)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(new { error });
    }
}

/// <summary>The configured API tokens, and the sign-in cookie derived from one.</summary>
public sealed class AccessControlTokens(IOptions<RunbookEngineOptions> options)
{
    /// <summary>Whether loopback callers need no token (<c>RunbookEngine:Access:TrustLoopback</c>).</summary>
    public bool TrustLoopback => options.Value.Access.TrustLoopback;

    /// <summary>The cookie value for a token, or null when the token is unknown.</summary>
    public string? CookieFor(string token) => Find(token) is { } name ? name + ":" + Hash(token) : null;

    public string? Find(string token)
    {
        foreach (var (name, known) in options.Value.Access.Tokens)
        {
            if (known.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(known), Encoding.UTF8.GetBytes(token)))
            {
                return name;
            }
        }

        return null;
    }

    public string? FromCookie(HttpRequest request)
    {
        if (!request.Cookies.TryGetValue(AccessControl.SignInCookie, out var value) || value.LastIndexOf(':') is var colon && colon <= 0)
        {
            return null;
        }

        var name = value[..colon];
        return options.Value.Access.Tokens.TryGetValue(name, out var token) && token.Length > 0
            && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Hash(token)), Encoding.ASCII.GetBytes(value[(colon + 1)..]))
            ? name
            : null;
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("runbookengine-signin:" + token)));
}

/// <summary>Wiring for the host.</summary>
public static class AccessControlExtensions
{
    /// <summary>Puts <see cref="AccessControl"/> in front of everything the host serves.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static IApplicationBuilder UseRunbookAccess(this IApplicationBuilder app) => app.UseMiddleware<AccessControl>();
}
