using System.Globalization;
using System.Text.RegularExpressions;
using RunbookEngine.Catalog;

namespace RunbookEngine.GitHub;

/// <summary>Where a runbook version came from: the commit that first carried it, with links to GitHub when the repository is known.</summary>
/// <param name="Commit">The commit's SHA.</param>
/// <param name="Author">Its author.</param>
/// <param name="CommittedAt">When it was committed.</param>
/// <param name="Message">Its subject line.</param>
/// <param name="CommitUrl">The commit on GitHub, when <c>RunbookEngine:GitHub:Repository</c> is set.</param>
/// <param name="PullRequest">The pull request it was merged from, when its message says so or GitHub's API did.</param>
public sealed record Provenance(
    string Commit,
    string? Author,
    DateTimeOffset? CommittedAt,
    string? Message,
    string? CommitUrl,
    PullRequestReference? PullRequest)
{
    /// <summary>The provenance of a version, or null when it did not come from Git.</summary>
    /// <param name="version">The version as the catalog recorded it.</param>
    /// <param name="github">The GitHub settings, for the links.</param>
    /// <returns>The provenance, or null.</returns>
    public static Provenance? Of(RunbookVersion? version, GitHubOptions github)
    {
        ArgumentNullException.ThrowIfNull(github);
        if (version?.Commit is not { Length: > 0 } commit)
        {
            return null;
        }

        var links = GitHubLinks.For(github);
        // The message first, as GitHub writes a merge or a squash; the API's answer for merges whose message names none.
        var number = GitHubLinks.PullRequestNumber(version.Message) ?? version.PullRequest;
        return new Provenance(
            commit,
            version.Author,
            version.CommittedAt,
            version.Message,
            links?.Commit(commit),
            number is { } n ? new PullRequestReference(n, links?.PullRequest(n)) : null);
    }
}

/// <summary>A pull request a commit was merged from.</summary>
/// <param name="Number">Its number.</param>
/// <param name="Url">Its page on GitHub, when <c>RunbookEngine:GitHub:Repository</c> is set.</param>
public sealed record PullRequestReference(int Number, string? Url);

/// <summary>Links to a repository's pages on GitHub or GitHub Enterprise Server, derived from <see cref="GitHubOptions"/>.</summary>
public sealed partial class GitHubLinks
{
    private readonly string _repository;

    private GitHubLinks(string repository) => _repository = repository;

    /// <summary>The repository's web address, e.g. <c>https://github.com/acme/runbooks</c>.</summary>
    public string Repository => _repository;

    /// <summary>The links for the configured repository.</summary>
    /// <param name="github">The GitHub settings.</param>
    /// <returns>The links, or null when no repository is set (a plain Git remote has no pages to link to) or the API URL is not absolute.</returns>
    public static GitHubLinks? For(GitHubOptions github)
    {
        ArgumentNullException.ThrowIfNull(github);
        if (github.OwnerAndName() is not var (owner, name) || WebBase(github.ApiUrl) is not { } web)
        {
            return null;
        }

        return new GitHubLinks($"{web}{Uri.EscapeDataString(owner)}/{Uri.EscapeDataString(name)}");
    }

    /// <summary>The web address that goes with a REST API address.</summary>
    /// <param name="apiUrl">The API's base address.</param>
    /// <returns>The web root ending in <c>/</c>, or null when <paramref name="apiUrl"/> is not an absolute http(s) URL.</returns>
    public static string? WebBase(string? apiUrl)
    {
        if (!Uri.TryCreate(apiUrl, UriKind.Absolute, out var api) || api.Scheme is not ("http" or "https"))
        {
            return null;
        }

        if (string.Equals(api.Host, "api.github.com", StringComparison.OrdinalIgnoreCase))
        {
            return "https://github.com/";
        }

        // GitHub Enterprise Server serves its API under /api/v3 on the same host as its pages.
        return $"{api.Scheme}://{api.Authority}/";
    }

    /// <summary>A commit's page.</summary>
    /// <param name="sha">The commit's SHA.</param>
    /// <returns>The address, or null for what is not a SHA (a folder's <c>sha-dirty</c> is no commit GitHub has).</returns>
    public string? Commit(string sha) => Sha().IsMatch(sha) ? $"{_repository}/commit/{sha.ToLowerInvariant()}" : null;

    /// <summary>A pull request's page.</summary>
    /// <param name="number">Its number.</param>
    /// <returns>The address.</returns>
    public string PullRequest(int number) => $"{_repository}/pull/{number.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// The pull request a commit was merged from, read from its message the way GitHub writes it: a merge commit's
    /// <c>Merge pull request #123 from owner/branch</c>, or a squash merge's title ending in <c>(#123)</c>.
    /// </summary>
    /// <param name="message">The commit message (its first line is read).</param>
    /// <returns>The number, or null when the message names no pull request.</returns>
    public static int? PullRequestNumber(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }

        var subject = message.AsSpan().Trim();
        var newline = subject.IndexOfAny('\r', '\n');
        var line = (newline < 0 ? subject : subject[..newline]).TrimEnd().ToString();
        var match = MergeCommit().Match(line);
        if (!match.Success)
        {
            match = SquashMerge().Match(line);
        }

        return match.Success && int.TryParse(match.Groups["number"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number > 0
            ? number
            : null;
    }

    [GeneratedRegex(@"^Merge pull request #(?<number>[0-9]{1,9}) from \S", RegexOptions.CultureInvariant)]
    private static partial Regex MergeCommit();

    // Only at the very end of the title: "(#12)" elsewhere is a mention, not the merge.
    [GeneratedRegex(@"\S.*\(#(?<number>[0-9]{1,9})\)$", RegexOptions.CultureInvariant)]
    private static partial Regex SquashMerge();

    [GeneratedRegex("^[0-9a-fA-F]{7,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha();
}
