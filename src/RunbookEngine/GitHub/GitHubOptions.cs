namespace RunbookEngine.GitHub;

/// <summary>
/// The GitHub repository that holds the runbooks, section <c>RunbookEngine:GitHub</c>: where the host reports on the
/// commits it loads. Authentication is a token or a GitHub App, never both; neither is ever logged.
/// </summary>
public sealed class GitHubOptions
{
    /// <summary>The REST API's base address, used as given (GitHub Enterprise Server: <c>https://HOST/api/v3/</c>). Default <c>https://api.github.com/</c>.</summary>
    public string ApiUrl { get; set; } = "https://api.github.com/";

    /// <summary>The repository, <c>owner/name</c>. Unset: nothing is posted to GitHub.</summary>
    public string? Repository { get; set; }

    /// <summary>A token (fine-grained: Checks read and write on the repository).</summary>
    public string? Token { get; set; }

    /// <summary>The GitHub App's id, with <see cref="PrivateKeyPath"/> and <see cref="InstallationId"/>, instead of a token.</summary>
    public long? AppId { get; set; }

    /// <summary>The App's private key, a PEM file (a mounted secret).</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary>The App's installation on the repository's owner.</summary>
    public long? InstallationId { get; set; }

    /// <summary>
    /// The secret of the repository's webhook (<c>X-Hub-Signature-256</c>). Falls back to
    /// <c>RunbookEngine:Catalog:Git:WebhookSecret</c>.
    /// </summary>
    public string? WebhookSecret { get; set; }

    /// <summary>
    /// Which pull requests get their runbook test cases run for their check. Default <see cref="PullRequestTestCases.Off"/>:
    /// a case runs the pull request's code as the host's user, with its file access, and no OS sandbox contains it; turn
    /// it on only where everyone who can open a pull request may run code on the host, as on a self-hosted CI runner.
    /// </summary>
    public PullRequestTestCases TestCases { get; set; } = PullRequestTestCases.Off;

    /// <summary>How long a pull request's test cases may take together before their process is killed. Default 5 minutes.</summary>
    public TimeSpan TestCasesTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Whether checks are posted: a repository is set.</summary>
    public bool IsEnabled => !string.IsNullOrWhiteSpace(Repository);

    /// <summary>Whether a GitHub App authenticates, rather than a token.</summary>
    public bool UsesApp => AppId is not null || !string.IsNullOrWhiteSpace(PrivateKeyPath) || InstallationId is not null;

    /// <summary>The repository's owner and name.</summary>
    /// <returns>Both parts, or null when <see cref="Repository"/> is not <c>owner/name</c>.</returns>
    public (string Owner, string Name)? OwnerAndName() =>
        Repository?.Trim().Split('/') is [{ Length: > 0 } owner, { Length: > 0 } name] && !owner.Contains(' ', StringComparison.Ordinal) && !name.Contains(' ', StringComparison.Ordinal)
            ? (owner, name)
            : null;

    /// <summary>The settings with every credential masked, should they ever be printed.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"GitHub {{ ApiUrl = {ApiUrl}, Repository = {Repository}, Token = {Mask(Token)}, AppId = {AppId}, PrivateKeyPath = {PrivateKeyPath}, InstallationId = {InstallationId}, WebhookSecret = {Mask(WebhookSecret)}, TestCases = {TestCases}, TestCasesTimeout = {TestCasesTimeout} }}";

    private static string Mask(string? secret) => string.IsNullOrEmpty(secret) ? "" : "***";
}
