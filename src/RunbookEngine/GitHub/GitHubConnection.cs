using Octokit;
using Octokit.Caching;
using Octokit.Internal;

namespace RunbookEngine.GitHub;

/// <summary>Octokit clients on <c>RunbookEngine:GitHub</c>: the address as given, a token or a GitHub App's installation tokens.</summary>
internal static class GitHubConnection
{
    /// <summary>A client for the configured repository's API.</summary>
    /// <param name="settings">The GitHub settings.</param>
    /// <param name="time">The clock installation tokens' expiry is judged by.</param>
    /// <param name="cache">Answers conditional requests (ETag) from what it kept, when given.</param>
    /// <returns>The client.</returns>
    public static GitHubClient Create(GitHubOptions settings, TimeProvider time, IResponseCache? cache = null)
    {
        // Used as given, unlike GitHubClient(product, uri), which swaps any path for /api/v3/ on hosts other than github.com.
        var apiUrl = new Uri(settings.ApiUrl.EndsWith('/') ? settings.ApiUrl : settings.ApiUrl + "/");
        ICredentialStore credentials = settings.UsesApp
            ? new GitHubAppCredentials(settings.AppId!.Value, settings.PrivateKeyPath!, settings.InstallationId!.Value, apiUrl, time)
            : new InMemoryCredentialStore(string.IsNullOrEmpty(settings.Token) ? Credentials.Anonymous : new Credentials(settings.Token));
        var connection = new Connection(GitHubChecks.Product, apiUrl, credentials);
        connection.SetRequestTimeout(TimeSpan.FromSeconds(30));
        if (cache is not null)
        {
            connection.ResponseCache = cache;
        }

        return new GitHubClient(connection);
    }
}
