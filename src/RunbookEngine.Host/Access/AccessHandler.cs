using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RunbookEngine.Access;

namespace RunbookEngine.Host.Access;

/// <summary>What a policy scheme accepts: the dashboard's takes the sign-in cookie for everything, the API's for reads only.</summary>
internal sealed class AccessSchemeOptions : AuthenticationSchemeOptions
{
    /// <summary>Whether the sign-in cookie may make unsafe requests (forms, which carry an anti-forgery token).</summary>
    public bool CookieWrites { get; set; }

    /// <summary>Whether an unauthenticated caller is sent to sign in (pages) rather than answered 401 (API).</summary>
    public bool RedirectToSignIn { get; set; }
}

/// <summary>
/// One scheme per endpoint group over the three ways in: a bearer token when one is presented (a wrong one is refused,
/// never passed over for loopback trust), else the sign-in cookie, else a trusted loopback caller. It also decides how a
/// refusal reads: 403 for a wrong token or a cross-site request, 401 with <c>WWW-Authenticate</c> for the API, a
/// redirect to sign in for pages.
/// </summary>
internal sealed class AccessHandler(IOptionsMonitor<AccessSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
    : AuthenticationHandler<AccessSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (BearerTokenHandler.Presented(Request) is not null)
        {
            return Rescheme(await Context.AuthenticateAsync(AccessIdentity.BearerScheme));
        }

        if (Options.CookieWrites || HttpMethods.IsGet(Request.Method) || HttpMethods.IsHead(Request.Method))
        {
            var cookie = await Context.AuthenticateAsync(AccessIdentity.CookieScheme);
            if (cookie.Succeeded)
            {
                return Rescheme(cookie);
            }
        }

        return Rescheme(await Context.AuthenticateAsync(AccessIdentity.LoopbackScheme));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (result.Failure is { } failure)
        {
            await RefuseAsync(StatusCodes.Status403Forbidden, failure.Message);
            return;
        }

        if (Options.RedirectToSignIn)
        {
            Response.Redirect("/signin?return=" + Uri.EscapeDataString(Request.PathBase + Request.Path + Request.QueryString));
            return;
        }

        Response.Headers.WWWAuthenticate = "Bearer";
        await RefuseAsync(StatusCodes.Status401Unauthorized, "this host answers requests from other machines only with a token: Authorization: Bearer <token> (RunbookEngine:Access:Tokens)");
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        RefuseAsync(StatusCodes.Status403Forbidden, "you may not do this");

    private Task RefuseAsync(int status, string error)
    {
        Response.StatusCode = status;
        return Response.WriteAsJsonAsync(new { error });
    }

    // The ticket names this scheme; the identity keeps its own authentication type, which says how the caller came in.
    private AuthenticateResult Rescheme(AuthenticateResult result) =>
        result.Succeeded ? AuthenticateResult.Success(new AuthenticationTicket(result.Principal!, result.Properties, Scheme.Name))
        : result.Failure is { } failure ? AuthenticateResult.Fail(failure)
        : AuthenticateResult.NoResult();
}
