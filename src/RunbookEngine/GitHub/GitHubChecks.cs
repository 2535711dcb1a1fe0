using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using RunbookEngine.Catalog;
using RunbookEngine.Scheduling;
using RunbookEngine.Storage;
using RunbookEngine.Trust.Testing;

namespace RunbookEngine.GitHub;

/// <summary>
/// Reports each commit the catalog loads from Git as a check run named <c>runbooks</c> on that commit: success, or
/// failure with an annotation at the file and line of every front-matter and compile error, and a summary of what
/// changed and what keeps serving its last good version. Posting happens here, in the background, with a bounded
/// retry: GitHub being slow, down or refusing never holds up or breaks a sync. A pull request's head commit is reported
/// the same way (<see cref="PullRequestChecks"/>). Of the nodes of a cluster that fetch a commit, only the one whose claim
/// in the store wins posts its check.
/// </summary>
/// <param name="options">The settings.</param>
/// <param name="versions">Where the claim to post a commit's check is made, for the whole cluster.</param>
/// <param name="node">This node, named in its claims.</param>
/// <param name="time">The clock.</param>
/// <param name="logger">The log.</param>
public sealed partial class GitHubChecks(IOptions<RunbookEngineOptions> options, IVersionStore versions, NodeIdentity node, TimeProvider time, ILogger<GitHubChecks> logger) : BackgroundService
{
    /// <summary>The check run's name, one per commit.</summary>
    public const string CheckName = "runbooks";

    /// <summary>The most annotations GitHub takes in one request.</summary>
    internal const int AnnotationsPerRequest = 50;

    /// <summary>The most annotations a check carries (three requests); the rest are counted in its summary.</summary>
    internal const int MaxAnnotations = 3 * AnnotationsPerRequest;

    /// <summary>The longest annotation message posted, in characters (GitHub refuses past 64 KB); the summary has room for the rest.</summary>
    internal const int MaxAnnotationMessage = 4 * 1024;

    /// <summary>The User-Agent GitHub requires.</summary>
    internal static readonly ProductHeaderValue Product = new("RunbookEngine");

    private readonly Channel<CheckReport> _reports = Channel.CreateUnbounded<CheckReport>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lazy<GitHubClient> _client = new(() => GitHubConnection.Create(options.Value.GitHub, time));
    private string? _lastQueued;

    /// <summary>The waits between attempts; their count bounds the retries.</summary>
    internal IReadOnlyList<TimeSpan> RetryDelays { get; init; } = [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2)];

    /// <summary>Whether a repository is configured; without one nothing is posted.</summary>
    public bool IsEnabled => options.Value.GitHub.IsEnabled;

    /// <summary>Queues the check of a commit the catalog has just loaded; returns at once. A commit is reported once per node.</summary>
    /// <param name="change">What the sync changed, with its commit.</param>
    /// <param name="entries">The catalog at that commit.</param>
    /// <param name="firstLoad">Whether this is the host's first load, when nothing is known about the commit before.</param>
    public void Report(CatalogChange change, IReadOnlyList<CatalogEntry> entries, bool firstLoad = false)
    {
        if (!IsEnabled || change.Commit is not { Length: > 0 } commit || change.Error is not null || commit.EndsWith("-dirty", StringComparison.Ordinal))
        {
            return;
        }

        if (Interlocked.Exchange(ref _lastQueued, commit) == commit)
        {
            return;
        }

        _reports.Writer.TryWrite(Build(change, entries, firstLoad));
    }

    /// <summary>Queues a check built elsewhere (a pull request's); returns at once.</summary>
    /// <param name="report">The check.</param>
    internal void Enqueue(CheckReport report)
    {
        if (IsEnabled)
        {
            _reports.Writer.TryWrite(report);
        }
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var report in _reports.Reader.ReadAllAsync(stoppingToken))
            {
                await PostWithRetryAsync(report, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PostWithRetryAsync(CheckReport report, CancellationToken stoppingToken)
    {
        var progress = new Progress();
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await PostAsync(report, progress, stoppingToken);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // A refusal (bad credentials, no access, a commit GitHub does not have) will not change by asking again.
                var retriable = ex is not ApiException api || (int)api.StatusCode >= 500 || (int)api.StatusCode == 429;
                if (!retriable || attempt >= RetryDelays.Count)
                {
                    LogPostFailed(report.Commit, attempt + 1, ex.GetType().Name, ex.Message);
                    await GiveUpClaimAsync(report, progress, stoppingToken);
                    return;
                }

                await Task.Delay(RetryDelays[attempt], time, stoppingToken);
            }
        }
    }

    private async Task GiveUpClaimAsync(CheckReport report, Progress progress, CancellationToken stoppingToken)
    {
        // Only a claim whose check was never created: one with a run on GitHub is done, whatever its annotations.
        if (!progress.Claimed || progress.RunId is not null)
        {
            return;
        }

        try
        {
            await versions.ReleaseGitHubCheckAsync(report.Commit, CheckName, node.Id, stoppingToken);
        }
        catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
        {
            LogReleaseFailed(report.Commit, ex.GetType().Name, ex.Message);
        }
    }

    private async Task PostAsync(CheckReport report, Progress progress, CancellationToken stoppingToken)
    {
        var (owner, name) = options.Value.GitHub.OwnerAndName()!.Value;
        var client = _client.Value;
        if (progress.RunId is null)
        {
            // Every node of a cluster that fetches the commit gets here at about the same moment; the store lets one post.
            if (!progress.Claimed)
            {
                if (!await versions.ClaimGitHubCheckAsync(report.Commit, CheckName, node.Id, stoppingToken))
                {
                    LogClaimedElsewhere(report.Commit);
                    return;
                }

                progress.Claimed = true;
            }

            // A check posted before this node claimed anything (by an older version, or by hand) is kept.
            var existing = await client.Check.Run.GetAllForReference(owner, name, report.Commit, new CheckRunRequest { CheckName = CheckName });
            if (existing.TotalCount > 0)
            {
                LogAlreadyChecked(report.Commit);
                await versions.MarkGitHubCheckPostedAsync(report.Commit, CheckName, node.Id, stoppingToken);
                return;
            }

            stoppingToken.ThrowIfCancellationRequested();
            var run = await client.Check.Run.Create(owner, name, new NewCheckRun(CheckName, report.Commit)
            {
                Status = CheckStatus.Completed,
                Conclusion = report.Conclusion,
                CompletedAt = time.GetUtcNow(),
                Output = new NewCheckRunOutput(report.Title, report.Summary) { Annotations = [.. report.Annotations.Take(AnnotationsPerRequest)] },
            });
            progress.RunId = run.Id;
            progress.Sent = Math.Min(AnnotationsPerRequest, report.Annotations.Count);
        }

        // Until this is written, the claim is a lease another node takes over if this one dies; after, it is final.
        if (!progress.Posted)
        {
            await versions.MarkGitHubCheckPostedAsync(report.Commit, CheckName, node.Id, stoppingToken);
            progress.Posted = true;
        }

        // GitHub adds the annotations of each update to the run's; it takes fifty a request.
        while (progress.Sent < report.Annotations.Count)
        {
            stoppingToken.ThrowIfCancellationRequested();
            var batch = report.Annotations.Skip(progress.Sent).Take(AnnotationsPerRequest).ToList();
            await client.Check.Run.Update(owner, name, progress.RunId.Value, new CheckRunUpdate
            {
                Output = new NewCheckRunOutput(report.Title, report.Summary) { Annotations = batch },
            });
            progress.Sent += batch.Count;
        }

        LogPosted(report.Commit, report.Conclusion.ToString(), report.Annotations.Count);
    }

    /// <summary>The check of one commit, from the catalog as it stands there.</summary>
    /// <param name="change">What the sync changed.</param>
    /// <param name="entries">Every runbook at that commit.</param>
    /// <param name="firstLoad">Whether the host has just started at this commit.</param>
    /// <returns>The report.</returns>
    internal static CheckReport Build(CatalogChange change, IReadOnlyList<CatalogEntry> entries, bool firstLoad = false)
    {
        // A runbook broken at an earlier commit and unchanged since is still broken at this one: the check is of the commit.
        var broken = entries.Where(e => e.Problem is not null || !e.IsValid).ToList();
        var summary = new StringBuilder();
        summary.Append(CultureInvariant($"{entries.Count} runbook{(entries.Count == 1 ? "" : "s")} at this commit."));
        summary.Append("\n\n");
        if (firstLoad)
        {
            summary.Append("Loaded as the host started.\n");
        }
        else if (change.Changed)
        {
            AppendList(summary, "Added", change.Added);
            AppendList(summary, "Changed", change.Updated);
            AppendList(summary, "Removed", change.Removed);
        }
        else
        {
            summary.Append("No runbook changed since the commit loaded before.\n");
        }

        AppendList(summary, "Keep serving their last good version", [.. broken.Where(e => e.IsValid).Select(e => e.Name)]);
        AppendList(summary, "Not served (no version compiles)", [.. broken.Where(e => !e.IsValid).Select(e => e.Name)]);
        return Finish(change.Commit!, entries.Count, broken, summary);
    }

    /// <summary>The check of a pull request's head commit, validated without being served.</summary>
    /// <param name="number">The pull request.</param>
    /// <param name="validation">Every runbook at its head commit, and how they differ from what the host serves.</param>
    /// <param name="servedCommit">The commit the host serves, compared with.</param>
    /// <param name="cases">How its test cases went, or null when they were not asked about.</param>
    /// <returns>The report.</returns>
    internal static CheckReport BuildPullRequest(int number, CommitValidation validation, string? servedCommit, CaseRunReport? cases = null)
    {
        var entries = validation.Entries;
        var change = validation.Change;
        var broken = entries.Where(e => !e.IsValid).ToList();
        var summary = new StringBuilder();
        summary.Append(CultureInvariant($"Pull request #{number}: {entries.Count} runbook{(entries.Count == 1 ? "" : "s")} at this commit, compiled without being served."));
        summary.Append("\n\n");
        var against = servedCommit is { Length: >= 7 } served ? $"the commit the host serves ({served[..7]})" : "what the host serves";
        if (change.Changed)
        {
            summary.Append("Compared with ").Append(against).Append(":\n");
            AppendList(summary, "Added", change.Added);
            AppendList(summary, "Changed", change.Updated);
            AppendList(summary, "Removed", change.Removed);
        }
        else
        {
            summary.Append("No runbook differs from ").Append(against).Append(".\n");
        }

        AppendList(summary, "Do not compile", [.. broken.Select(e => e.Name)]);
        var annotations = new List<NewCheckRunAnnotation>();
        var casesTitle = cases is null ? null : AppendCases(summary, cases, validation.Revision, annotations);
        var report = Finish(validation.Revision.Commit!, entries.Count, broken, summary, annotations);
        if (casesTitle is null)
        {
            return report;
        }

        return report with
        {
            Title = $"{report.Title}; {casesTitle}",
            Conclusion = cases!.Passed ? report.Conclusion : CheckConclusion.Failure,
        };
    }

    /// <summary>
    /// Writes the test cases' part of the summary, with an annotation at each failed case's file and line, and returns
    /// the words for the title ("12 cases, 1 failed"), or null when the cases add nothing to it.
    /// </summary>
    private static string? AppendCases(StringBuilder summary, CaseRunReport cases, CatalogRevision revision, List<NewCheckRunAnnotation> annotations)
    {
        summary.Append('\n');
        if (cases.Skipped is { } skipped)
        {
            summary.Append("Test cases: not run: ").Append(skipped).Append(".\n");
            return null;
        }

        var failed = cases.Failed;
        var counted = CultureInvariant($"{cases.Cases.Count} case{(cases.Cases.Count == 1 ? "" : "s")}, {failed.Count} failed");
        if (cases.Cases.Count == 0 && cases.Error is null)
        {
            summary.Append("Test cases: none at this commit (a case is `").Append(TestCaseRunner.TestsFolder).Append("/RUNBOOK/CASE.yaml` in the runbook folder).\n");
            return null;
        }

        if (cases.Error is { } error)
        {
            // Counted as far as they went; the case that was running when the process stopped is where to look.
            summary.Append("Test cases: did not finish: ").Append(error).Append(".\n");
            counted = CultureInvariant($"test cases did not finish ({cases.Cases.Count} finished, {failed.Count} failed)");
            // A path the process names is the pull request's code's word: only a case file of the folder gets an annotation.
            if (cases.Unfinished is { } unfinished && CaseProcess.IsCasePath(unfinished))
            {
                annotations.Add(new NewCheckRunAnnotation(RepositoryPath(revision, unfinished), 1, 1, CheckAnnotationLevel.Failure, error) { Title = "this case did not finish" });
            }
        }
        else
        {
            summary.Append("Test cases: ").Append(counted).Append(".\n");
        }

        foreach (var outcome in failed)
        {
            var inside = CaseProcess.IsCasePath(outcome.File);
            var path = inside ? RepositoryPath(revision, outcome.File) : "(a path outside the cases folder)";
            summary.Append(CultureInvariant($"\n### Case `{outcome.Runbook}/{outcome.Name}` failed\n\n"));
            foreach (var failure in outcome.Failures)
            {
                summary.Append("- `").Append(path).Append(CultureInvariant($":{failure.Line}`: ")).Append(Cut(failure.Message).Replace('\n', ' ')).Append('\n');
                var line = Math.Max(1, failure.Line);
                if (inside)
                {
                    annotations.Add(new NewCheckRunAnnotation(path, line, line, CheckAnnotationLevel.Failure, failure.Message) { Title = $"{outcome.Runbook}: case {outcome.Name} failed" });
                }
            }
        }

        return counted;
    }

    private static string Cut(string message) => message.Length > MaxAnnotationMessage ? message[..MaxAnnotationMessage] + " (cut short)" : message;

    /// <summary>A file of the runbook folder as a path in the repository, as annotations name it.</summary>
    private static string RepositoryPath(CatalogRevision revision, string relativeToRunbooks)
    {
        var full = Path.Combine(revision.Root, relativeToRunbooks);
        var path = revision.RepositoryRoot is { } repository ? Path.GetRelativePath(repository, full) : relativeToRunbooks;
        return path.Replace(Path.DirectorySeparatorChar, '/');
    }

    private static CheckReport Finish(string commit, int count, List<CatalogEntry> broken, StringBuilder summary, List<NewCheckRunAnnotation>? more = null)
    {
        var annotations = new List<NewCheckRunAnnotation>();
        foreach (var entry in broken)
        {
            var errors = (entry.Problem?.Diagnostics ?? entry.Diagnostics).Where(d => d.IsError).ToList();
            summary.Append(CultureInvariant($"\n### {entry.Name}\n\n"));
            foreach (var error in errors)
            {
                summary.Append("- `").Append(error.ToString().Replace('`', '\'')).Append("`\n");

                // An annotation needs a file in the repository; one outside it (an absolute path) is in the summary only.
                if (error.File.Length > 0 && !Path.IsPathRooted(error.File) && !error.File.StartsWith("..", StringComparison.Ordinal))
                {
                    var line = Math.Max(1, error.Line);
                    annotations.Add(new NewCheckRunAnnotation(error.File, line, line, CheckAnnotationLevel.Failure, error.Message) { Title = $"{entry.Name}: {error.Code}" });
                }
            }
        }

        annotations.AddRange(more ?? []);
        var left = "";
        if (annotations.Count > MaxAnnotations)
        {
            // The summary lists the errors; a pull request with thousands would cost a request per fifty.
            left = CultureInvariant($"\n\n{annotations.Count - MaxAnnotations} more annotation{(annotations.Count - MaxAnnotations == 1 ? "" : "s")} not posted (at most {MaxAnnotations}).");
            annotations.RemoveRange(MaxAnnotations, annotations.Count - MaxAnnotations);
        }

        for (var i = 0; i < annotations.Count; i++)
        {
            if (annotations[i].Message.Length > MaxAnnotationMessage)
            {
                var a = annotations[i];
                annotations[i] = new NewCheckRunAnnotation(a.Path, a.StartLine, a.EndLine, a.AnnotationLevel?.Value ?? CheckAnnotationLevel.Failure, Cut(a.Message)) { Title = a.Title };
            }
        }
        var title = broken.Count == 0
            ? CultureInvariant($"All {count} runbooks compile")
            : CultureInvariant($"{broken.Count} of {count} runbooks do not compile");

        // GitHub's limit on a summary is 65535 characters.
        var text = (summary.Length > 60_000 ? summary.ToString(0, 60_000) + "\n\n(cut short)" : summary.ToString()) + left;
        return new CheckReport(commit, broken.Count == 0 ? CheckConclusion.Success : CheckConclusion.Failure, title, text, annotations);
    }

    private static void AppendList(StringBuilder summary, string heading, IReadOnlyList<string> names)
    {
        if (names.Count > 0)
        {
            summary.Append(heading).Append(": ").AppendJoin(", ", names.Select(n => $"`{n}`")).Append('\n');
        }
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    private sealed class Progress
    {
        public bool Claimed { get; set; }

        public long? RunId { get; set; }

        public int Sent { get; set; }

        public bool Posted { get; set; }
    }

    [LoggerMessage(EventId = 620, Level = LogLevel.Information, Message = "Posted the runbooks check on {Commit}: {Conclusion}, {Annotations} annotations")]
    private partial void LogPosted(string commit, string conclusion, int annotations);

    [LoggerMessage(EventId = 621, Level = LogLevel.Information, Message = "Commit {Commit} already has a runbooks check (another node posted it); not posting another")]
    private partial void LogAlreadyChecked(string commit);

    [LoggerMessage(EventId = 623, Level = LogLevel.Information, Message = "The runbooks check on {Commit} is another node's to post (its claim in the store came first); not posting another")]
    private partial void LogClaimedElsewhere(string commit);

    [LoggerMessage(EventId = 624, Level = LogLevel.Warning, Message = "Giving up the claim to post the runbooks check on {Commit} failed ({ErrorType}: {Error}); no node will post it until the row is deleted")]
    private partial void LogReleaseFailed(string commit, string errorType, string error);

    [LoggerMessage(EventId = 622, Level = LogLevel.Warning, Message = "Posting the runbooks check on {Commit} to GitHub failed after {Attempts} attempts ({ErrorType}: {Error}); the catalog is unaffected")]
    private partial void LogPostFailed(string commit, int attempts, string errorType, string error);
}

/// <summary>The check run of one commit.</summary>
/// <param name="Commit">The commit.</param>
/// <param name="Conclusion">Success, or failure when a runbook does not compile.</param>
/// <param name="Title">One line.</param>
/// <param name="Summary">Markdown: what changed, what keeps serving its last good version, the errors.</param>
/// <param name="Annotations">One per error, at its file and line relative to the repository root.</param>
internal sealed record CheckReport(string Commit, CheckConclusion Conclusion, string Title, string Summary, IReadOnlyList<NewCheckRunAnnotation> Annotations);
