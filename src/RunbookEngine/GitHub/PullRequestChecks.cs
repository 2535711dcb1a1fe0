using System.Text.RegularExpressions;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using RunbookEngine.Catalog;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.GitHub;

/// <summary>
/// Checks pull requests: fetches a pull request's head commit through the catalog's source, compiles every runbook there
/// without serving or recording any of it, runs the runbook test cases there in a process of their own
/// (<see cref="CaseProcess"/>, as <see cref="GitHubOptions.TestCases"/> allows), and hands the result to
/// <see cref="GitHubChecks"/> to post as the commit's <c>runbooks</c> check, which a branch protection rule can then
/// require. One pull request at a time, in the background: the webhook is answered at once.
/// </summary>
/// <param name="catalog">The catalog, whose source fetches the commit and whose compiler judges it.</param>
/// <param name="checks">Where the check is posted from.</param>
/// <param name="cases">Runs the commit's test cases away from the host's runs.</param>
/// <param name="options">The settings: which pull requests' cases run.</param>
/// <param name="logger">The log.</param>
public sealed partial class PullRequestChecks(RunbookCatalog catalog, GitHubChecks checks, CaseProcess cases, IOptions<RunbookEngineOptions> options, ILogger<PullRequestChecks> logger) : BackgroundService
{
    private readonly Channel<(int Number, string HeadSha, bool FromFork)> _requests = Channel.CreateUnbounded<(int, string, bool)>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Why pull requests cannot be checked with these settings, or null when they can.</summary>
    public string? Unavailable =>
        !checks.IsEnabled ? "no RunbookEngine:GitHub:Repository is set, so no check can be posted"
        : !catalog.CanValidateCommits ? $"the catalog reads a {catalog.SourceKind}; pull requests are checked when RunbookEngine:Catalog:Source is git or github"
        : null;

    /// <summary>Queues the check of a pull request's head commit; returns at once.</summary>
    /// <param name="number">The pull request's number.</param>
    /// <param name="headSha">Its head commit.</param>
    /// <param name="fromFork">Whether its head branch is in another repository (a fork), whose code is anyone's.</param>
    /// <exception cref="ArgumentException">The commit is not a SHA.</exception>
    public void Request(int number, string headSha, bool fromFork)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(number, 1);

        // It ends up on a git command line: only a SHA may get there.
        if (!Sha().IsMatch(headSha ?? ""))
        {
            throw new ArgumentException($"'{headSha}' is not a commit SHA (40 or 64 hex digits)", nameof(headSha));
        }

        _requests.Writer.TryWrite((number, headSha!.ToLowerInvariant(), fromFork));
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (number, sha, fromFork) in _requests.Reader.ReadAllAsync(stoppingToken))
            {
                await CheckAsync(number, sha, fromFork, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task CheckAsync(int number, string sha, bool fromFork, CancellationToken stoppingToken)
    {
        // Nothing may escape: this loop serves every later pull request.
        try
        {
            var skipped = CasesSkipped(fromFork);
            var report = skipped is null ? null : CaseRunReport.NotRun(skipped);
            var validation = await catalog.ValidateCommitAsync(
                sha,
                number,
                skipped is not null ? null : async (revision, ct) => report = await cases.RunAsync(revision.Root, ct),
                stoppingToken);
            LogValidated(number, sha, validation.Entries.Count, validation.Change.Failed.Count);
            if (report is { Skipped: null })
            {
                LogCases(number, sha, report.Cases.Count, report.Failed.Count, report.Error ?? "none");
            }

            checks.Enqueue(GitHubChecks.BuildPullRequest(number, validation, catalog.Revision?.Commit, report));
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

    /// <summary>Why a pull request's cases are not run, or null when they are.</summary>
    private string? CasesSkipped(bool fromFork) => options.Value.GitHub.TestCases switch
    {
        PullRequestTestCases.Off => "RunbookEngine:GitHub:TestCases is Off",
        PullRequestTestCases.SameRepository when fromFork =>
            "the pull request comes from a fork, and a case runs its code on the host; RunbookEngine:GitHub:TestCases = All runs forks' cases too",
        _ => null,
    };

    [GeneratedRegex("^([0-9a-fA-F]{40}|[0-9a-fA-F]{64})$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha();

    [LoggerMessage(EventId = 625, Level = LogLevel.Information, Message = "Pull request #{PullRequest} at {Commit}: {Runbooks} runbooks compiled without being served, {Failing} failing")]
    private partial void LogValidated(int pullRequest, string commit, int runbooks, int failing);

    [LoggerMessage(EventId = 629, Level = LogLevel.Information, Message = "Pull request #{PullRequest} at {Commit}: {Cases} test cases run, {Failed} failed; stopped short: {Error}")]
    private partial void LogCases(int pullRequest, string commit, int cases, int failed, string error);

    [LoggerMessage(EventId = 626, Level = LogLevel.Warning, Message = "Checking pull request #{PullRequest} at {Commit} failed ({ErrorType}: {Error}); no check is posted, and what the catalog serves is unaffected")]
    private partial void LogFailed(int pullRequest, string commit, string errorType, string error);
}
