using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace RunbookEngine.Access;

/// <summary>The API tokens of <c>RunbookEngine:Access:Tokens</c>: who holds a token, and whether a sign-in still stands.</summary>
public sealed class AccessTokens(IOptionsMonitor<RunbookEngineOptions> options)
{
    /// <summary>The name of whoever holds <paramref name="token"/>, or null when it is not a configured token.</summary>
    /// <param name="token">What the caller presented.</param>
    /// <returns>The holder's name or null.</returns>
    public string? Find(string token)
    {
        ArgumentNullException.ThrowIfNull(token);
        string? found = null;
        // Every configured token is compared, in constant time each, so the time taken says nothing about which one is near.
        foreach (var (name, known) in options.CurrentValue.Access.Tokens)
        {
            if (known.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(known), Encoding.UTF8.GetBytes(token)))
            {
                found ??= name;
            }
        }

        return found;
    }

    /// <summary>
    /// A fingerprint of a token, kept in a sign-in cookie so the sign-in ends when the token is removed or changed in
    /// configuration. It is a keyed hash: the cookie is encrypted anyway, and this never lets the token be recovered.
    /// </summary>
    /// <param name="token">The token.</param>
    /// <returns>Hex.</returns>
    public static string Fingerprint(string token) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("runbookengine-signin"), Encoding.UTF8.GetBytes(token)));

    /// <summary>Whether <paramref name="name"/> still holds the token whose fingerprint a sign-in recorded.</summary>
    /// <param name="name">The token holder's name.</param>
    /// <param name="fingerprint">From the sign-in.</param>
    /// <returns>True while the same token is configured under that name.</returns>
    public bool StillHolds(string name, string fingerprint) =>
        options.CurrentValue.Access.Tokens.TryGetValue(name, out var token) && token.Length > 0
        && CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Fingerprint(token)), Encoding.ASCII.GetBytes(fingerprint));
}
