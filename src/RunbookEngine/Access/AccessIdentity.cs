using System.Security.Claims;

namespace RunbookEngine.Access;

/// <summary>
/// The authentication schemes and policies of the host, and who a caller is. A token holder (bearer token or a
/// dashboard sign-in) has a name; a trusted loopback caller is authenticated but has none, and says who they are in
/// the request where it matters.
/// </summary>
public static class AccessIdentity
{
    /// <summary><c>Authorization: Bearer</c> with a configured token.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>The dashboard's sign-in cookie, encrypted and signed with the shared key ring.</summary>
    public const string CookieScheme = "SignIn";

    /// <summary>A caller on this machine, when <c>RunbookEngine:Access:TrustLoopback</c> is on.</summary>
    public const string LoopbackScheme = "Loopback";

    /// <summary>Any of the three: the dashboard's pages and forms, and the API's reads.</summary>
    public const string AnyScheme = "RunbookEngine";

    /// <summary>Bearer or loopback, never the cookie: the API's writes, which a browser page must not be able to make.</summary>
    public const string ApiScheme = "RunbookEngine.Api";

    /// <summary>The policy of the API and <c>/metrics</c>.</summary>
    public const string ApiPolicy = "api";

    /// <summary>The policy of the dashboard.</summary>
    public const string DashboardPolicy = "dashboard";

    /// <summary>A policy that admits everyone and sets who they are, for open endpoints that tell trusted callers more.</summary>
    public const string IdentifyPolicy = "identify";

    /// <summary>The claim holding the fingerprint of the token a sign-in was made with.</summary>
    public const string TokenClaim = "runbookengine:token";

    /// <summary>A token holder, as one of the schemes that know them.</summary>
    /// <param name="name">The token's name.</param>
    /// <param name="scheme">The scheme.</param>
    /// <param name="fingerprint">The token's fingerprint, for a sign-in.</param>
    /// <returns>The principal.</returns>
    public static ClaimsPrincipal TokenHolder(string name, string scheme, string? fingerprint = null)
    {
        var claims = new List<Claim> { new(ClaimTypes.Name, name), new(ClaimTypes.NameIdentifier, name) };
        if (fingerprint is not null)
        {
            claims.Add(new Claim(TokenClaim, fingerprint));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme));
    }

    /// <summary>
    /// A trusted loopback caller. The name identifier gives anti-forgery tokens an identity to bind to, so a token
    /// pair fetched anonymously from another machine is refused when a page makes the browser post it from here.
    /// </summary>
    /// <returns>The principal.</returns>
    public static ClaimsPrincipal Loopback() =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, "loopback")], LoopbackScheme));

    /// <summary>The token holder's name, or null for a loopback caller or nobody.</summary>
    /// <param name="user">The request's user.</param>
    /// <returns>The name or null.</returns>
    public static string? Name(ClaimsPrincipal? user) =>
        user?.Identity is { IsAuthenticated: true, AuthenticationType: not LoopbackScheme } identity ? identity.Name : null;
}
