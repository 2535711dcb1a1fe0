using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using RunbookEngine.Access;

namespace RunbookEngine.Host.Access;

/// <summary><c>Authorization: Bearer TOKEN</c> with a token of <c>RunbookEngine:Access:Tokens</c>; the caller is the token's name.</summary>
internal sealed class BearerTokenHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, AccessTokens tokens)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string Refusal = "the bearer token is not one of RunbookEngine:Access:Tokens";

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (Presented(Request) is not { } token)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        return Task.FromResult(tokens.Find(token) is { } name
            ? AuthenticateResult.Success(new AuthenticationTicket(AccessIdentity.TokenHolder(name, Scheme.Name), Scheme.Name))
            : AuthenticateResult.Fail(Refusal));
    }

    public static string? Presented(HttpRequest request) =>
        request.Headers.Authorization.ToString() is { } header && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
}
