using RunbookEngine.Catalog;
using RunbookEngine.GitHub;

namespace RunbookEngine.Tests.GitHub;

/// <summary>A version's commit and pull request, read from what Git recorded and linked to GitHub when the repository is known.</summary>
public sealed class ProvenanceTests
{
    private const string Sha = "0123456789abcdef0123456789abcdef01234567";

    [Theory]
    [InlineData("Merge pull request #123 from acme/fix-disk-full", 123)]
    [InlineData("Merge pull request #7 from someone/patch-1\n\nFix the threshold", 7)]
    [InlineData("Raise the disk threshold (#45)", 45)]
    [InlineData("Raise the disk threshold (#45)  \r\n\r\n* first commit\n* second (#3)", 45)]
    [InlineData("Revert \"Raise the disk threshold (#45)\" (#46)", 46)]
    public void A_merge_or_squash_commit_names_its_pull_request(string message, int expected) =>
        Assert.Equal(expected, GitHubLinks.PullRequestNumber(message));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Raise the disk threshold")]
    [InlineData("Fix #12: the threshold was wrong")]
    [InlineData("Handle (#12) in alert labels too")]
    [InlineData("Revert \"Raise the disk threshold (#45)\"")]
    [InlineData("(#45)")]
    [InlineData("Merge branch 'main' into feature #12")]
    [InlineData("Merge pull request #abc from acme/x")]
    [InlineData("Raise the threshold (#0)")]
    [InlineData("Raise the threshold (#99999999999)")]
    [InlineData("Raise the threshold\n\nSee (#45)")]
    public void Other_messages_name_none(string? message) =>
        Assert.Null(GitHubLinks.PullRequestNumber(message));

    [Theory]
    [InlineData("https://api.github.com/", "https://github.com/")]
    [InlineData("https://api.github.com", "https://github.com/")]
    [InlineData("https://ghe.example.com/api/v3/", "https://ghe.example.com/")]
    [InlineData("http://ghe.internal:8080/api/v3", "http://ghe.internal:8080/")]
    [InlineData("not a url", null)]
    [InlineData("ftp://example.com/", null)]
    public void The_web_address_follows_the_api_address(string apiUrl, string? expected) =>
        Assert.Equal(expected, GitHubLinks.WebBase(apiUrl));

    [Fact]
    public void On_github_com_the_commit_and_pull_request_link_to_their_pages()
    {
        var provenance = Provenance.Of(Version("Raise the threshold (#45)"), new GitHubOptions { Repository = "acme/runbooks" });

        Assert.Equal(
            new Provenance(Sha, "Ada Lovelace <ada@example.com>", At, "Raise the threshold (#45)", $"https://github.com/acme/runbooks/commit/{Sha}", new PullRequestReference(45, "https://github.com/acme/runbooks/pull/45")),
            provenance);
    }

    [Fact]
    public void On_github_enterprise_server_they_link_to_the_servers_pages()
    {
        var provenance = Provenance.Of(Version("Merge pull request #9 from ops/x"), new GitHubOptions { Repository = "ops/runbooks", ApiUrl = "https://ghe.example.com/api/v3/" });

        Assert.Equal(($"https://ghe.example.com/ops/runbooks/commit/{Sha}", new PullRequestReference(9, "https://ghe.example.com/ops/runbooks/pull/9")), (provenance!.CommitUrl, provenance.PullRequest));
    }

    [Fact]
    public void Without_a_repository_the_commit_and_number_stay_and_nothing_links()
    {
        var provenance = Provenance.Of(Version("Merge pull request #9 from ops/x"), new GitHubOptions());

        Assert.Equal((Sha, (string?)null, new PullRequestReference(9, null)), (provenance!.Commit, provenance.CommitUrl, provenance.PullRequest));
    }

    [Fact]
    public void A_version_not_from_git_has_none_and_a_dirty_folder_commit_does_not_link()
    {
        var github = new GitHubOptions { Repository = "acme/runbooks" };

        Assert.Null(Provenance.Of(Version("x") with { Commit = null }, github));
        Assert.Null(Provenance.Of(null, github));
        var dirty = Provenance.Of(Version("Raise (#4)") with { Commit = Sha + "-dirty" }, github);
        Assert.Equal((Sha + "-dirty", (string?)null), (dirty!.Commit, dirty.CommitUrl));
        Assert.Equal("https://github.com/acme/runbooks/pull/4", dirty.PullRequest?.Url);
    }

    private static readonly DateTimeOffset At = new(2026, 12, 1, 9, 30, 0, TimeSpan.Zero);

    private static RunbookVersion Version(string message) =>
        new("disk-full", "hash", Sha, "Ada Lovelace <ada@example.com>", At, message, true, [], [], At);
}
