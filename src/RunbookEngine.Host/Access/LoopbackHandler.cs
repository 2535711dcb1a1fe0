using System.Net;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RunbookEngine.Access;

namespace RunbookEngine.Host.Access;

/// <summary>
/// A caller on this machine, trusted without a token while <c>RunbookEngine:Access:TrustLoopback</c> is on. Host
/// filtering has already refused any request whose <c>Host</c> is not one of this host's names, so a page on a
/// rebound name never gets here; a page on another origin that makes the browser post here is refused too.
/// </summary>
internal sealed class LoopbackHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, IOptionsMonitor<RunbookEngineOptions> engine)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string CrossSiteRefusal = "cross-site requests are refused: a page of another site cannot act on this host for you";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!engine.CurrentValue.Access.TrustLoopback || Context.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (!HttpMethods.IsGet(Request.Method) && !HttpMethods.IsHead(Request.Method) && IsCrossSite(Request))
        {
            return Task.FromResult(AuthenticateResult.Fail(CrossSiteRefusal));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(AccessIdentity.Loopback(), Scheme.Name)));
    }

    private static bool IsCrossSite(HttpRequest request) =>
        request.Headers["Sec-Fetch-Site"].ToString() is "cross-site" or "same-site"
        || (request.Headers.Origin.ToString() is { Length: > 0 } origin && !string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase));
}
