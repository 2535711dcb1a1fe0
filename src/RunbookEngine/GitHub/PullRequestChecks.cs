using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RunbookEngine.Catalog;

namespace RunbookEngine.GitHub;

/// <summary>
/// Checks pull requests: fetches a pull request's head commit through the catalog's source, compiles every runbook there
/// without serving or recording any of it, and hands the result to <see cref="GitHubChecks"/> to post as the commit's
/// <c>runbooks</c> check, which a branch protection rule can then require. One pull request at a time, in the background:
/// the webhook is answered at once.
/// </summary>
/// <param name="catalog">The catalog, whose source fetches the commit and whose compiler judges it.</param>
/// <param name="checks">Where the check is posted from.</param>
/// <param name="logger">The log.</param>
public sealed partial class PullRequestChecks(RunbookCatalog catalog, GitHubChecks checks, ILogger<PullRequestChecks> logger) : BackgroundService
{
    private readonly Channel<(int Number, string HeadSha)> _requests = Channel.CreateUnbounded<(int, string)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Why pull requests cannot be checked with these settings, or null when they can.</summary>
    public string? Unavailable =>
        !checks.IsEnabled ? "no RunbookEngine:GitHub:Repository is set, so no check can be posted"
        : !catalog.CanValidateCommits ? $"the catalog reads a {catalog.SourceKind}; pull requests are checked when RunbookEngine:Catalog:Source is git or github"
        : null;

    /// <summary>Queues the check of a pull request's head commit; returns at once.</summary>
    /// <param name="number">The pull request's number.</param>
    /// <param name="headSha">Its head commit.</param>
    /// <exception cref="ArgumentException">The commit is not a SHA.</exception>
    public void Request(int number, string headSha)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);

        // It ends up on a git command line: only a SHA may get there.
        if (!Sha().IsMatch(headSha ?? ""))
        {
            throw new ArgumentException($"'{headSha}' is not a commit SHA (40 or 64 hex digits)", nameof(headSha));
        }

        _requests.Writer.TryWrite((number, headSha!.ToLowerInvariant()));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (number, sha) in _requests.Reader.ReadAllAsync(stoppingToken))
            {
                await CheckAsync(number, sha, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task CheckAsync(int number, string sha, CancellationToken stoppingToken)
    {
        // Nothing may escape: this loop serves every later pull request.
        try
        {
            var validation = await catalog.ValidateCommitAsync(sha, number, stoppingToken);
            LogValidated(number, sha, validation.Entries.Count, validation.Change.Failed.Count);
            checks.Enqueue(GitHubChecks.BuildPullRequest(number, validation, catalog.Revision?.Commit));
        }
        catch (InvalidDataException ex)
        {
            // A refused archive (too large, too many files, a path outside its folder) will not pass by asking again;
            // the author is told on the pull request rather than the check never coming.
            LogFailed(number, sha, ex.GetType().Name, ex.Message);
            checks.Enqueue(new CheckReport(sha, Octokit.CheckConclusion.Failure, "The commit's archive was refused", ex.Message, []));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogFailed(number, sha, ex.GetType().Name, ex.Message);
        }
    }

    [GeneratedRegex("^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha();

    [LoggerMessage(EventId = 625, Level = LogLevel.Information, Message = "Pull request #{PullRequest} at {Commit}: {Runbooks} runbooks compiled without being served, {Failing} failing")]
    private partial void LogValidated(int pullRequest, string commit, int runbooks, int failing);

    [LoggerMessage(EventId = 626, Level = LogLevel.Warning, Message = "Checking pull request #{PullRequest} at {Commit} failed ({ErrorType}: {Error}); no check is posted, and what the catalog serves is unaffected")]
    private partial void LogFailed(int pullRequest, string commit, string errorType, string error);
}
