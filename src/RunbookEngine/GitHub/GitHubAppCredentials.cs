using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Octokit;
using Octokit.Internal;

namespace RunbookEngine.GitHub;

/// <summary>
/// A GitHub App's installation token, for Octokit: made with a JWT the App signs with its private key, kept while it
/// is good, and replaced five minutes before it expires, so a request never carries a token that runs out on its way.
/// </summary>
/// <param name="appId">The App's id (the JWT's issuer).</param>
/// <param name="privateKeyPath">The App's PEM key, read whenever a JWT is made, so a rotated secret is picked up.</param>
/// <param name="installationId">The installation whose token is asked for.</param>
/// <param name="apiUrl">The REST API's base address.</param>
/// <param name="time">The clock the expiry is judged by.</param>
internal sealed class GitHubAppCredentials(long appId, string privateKeyPath, long installationId, Uri apiUrl, TimeProvider time) : ICredentialStore, IDisposable
{
    /// <summary>How long before its expiry a token is replaced.</summary>
    public static readonly TimeSpan RefreshBefore = TimeSpan.FromMinutes(5);

    private readonly SemaphoreSlim _gate = new(1, 1);
    private (string Token, DateTimeOffset ExpiresAt)? _current;

    public async Task<Credentials> GetCredentials()
    {
        await _gate.WaitAsync();
        try
        {
            if (_current is not { } current || current.ExpiresAt - time.GetUtcNow() < RefreshBefore)
            {
                var app = new GitHubClient(new Connection(GitHubChecks.Product, apiUrl, new InMemoryCredentialStore(new Credentials(AppJwt(), AuthenticationType.Bearer))));
                var token = await app.GitHubApps.CreateInstallationToken(installationId);
                current = (token.Token, token.ExpiresAt);
                _current = current;
            }

            return new Credentials(current.Token);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// The App's JWT (RS256): issued a minute in the past against clock drift, and valid for nine minutes, under
    /// GitHub's ten-minute limit.
    /// </summary>
    /// <returns>The signed token.</returns>
    internal string AppJwt()
    {
        using var key = RSA.Create();
        key.ImportFromPem(File.ReadAllText(privateKeyPath));
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var header = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string> { ["alg"] = "RS256", ["typ"] = "JWT" }));
        var payload = Base64Url(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["iat"] = now - 60,
            ["exp"] = now + (9 * 60),
            ["iss"] = appId.ToString(CultureInfo.InvariantCulture),
        }));
        var signature = key.SignData(Encoding.ASCII.GetBytes($"{header}.{payload}"), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        return $"{header}.{payload}.{Base64Url(signature)}";
    }

    public void Dispose() => _gate.Dispose();

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
