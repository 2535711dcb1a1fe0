using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Octokit;
using Octokit.Internal;
using RunbookEngine.Catalog;

namespace RunbookEngine.GitHub;

/// <summary>
/// Reports each commit the catalog loads from Git as a check run named <c>runbooks</c> on that commit: success, or
/// failure with an annotation at the file and line of every front-matter and compile error, and a summary of what
/// changed and what keeps serving its last good version. Posting happens here, in the background, with a bounded
/// retry: GitHub being slow, down or refusing never holds up or breaks a sync.
/// </summary>
public sealed partial class GitHubChecks(IOptions<RunbookEngineOptions> options, TimeProvider time, ILogger<GitHubChecks> logger) : BackgroundService
{
    /// <summary>The check run's name, one per commit.</summary>
    public const string CheckName = "runbooks";

    /// <summary>The most annotations GitHub takes in one request.</summary>
    internal const int AnnotationsPerRequest = 50;

    /// <summary>The User-Agent GitHub requires.</summary>
    internal static readonly ProductHeaderValue Product = new("RunbookEngine");

    private readonly Channel<CheckReport> _reports = Channel.CreateUnbounded<CheckReport>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lazy<GitHubClient> _client = new(() => CreateClient(options.Value.GitHub, time));
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
                    return;
                }

                await Task.Delay(RetryDelays[attempt], time, stoppingToken);
            }
        }
    }

    private async Task PostAsync(CheckReport report, Progress progress, CancellationToken stoppingToken)
    {
        var (owner, name) = options.Value.GitHub.OwnerAndName()!.Value;
        var client = _client.Value;
        if (progress.RunId is null)
        {
            // Every node of a cluster that fetches the commit gets here; the first to post wins and the rest see its run.
            var existing = await client.Check.Run.GetAllForReference(owner, name, report.Commit, new CheckRunRequest { CheckName = CheckName });
            if (existing.TotalCount > 0)
            {
                LogAlreadyChecked(report.Commit);
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
        var annotations = new List<NewCheckRunAnnotation>();
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

        var title = broken.Count == 0
            ? CultureInvariant($"All {entries.Count} runbooks compile")
            : CultureInvariant($"{broken.Count} of {entries.Count} runbooks do not compile");

        // GitHub's limit on a summary is 65535 characters.
        var text = summary.Length > 60_000 ? summary.ToString(0, 60_000) + "\n\n(cut short)" : summary.ToString();
        return new CheckReport(change.Commit!, broken.Count == 0 ? CheckConclusion.Success : CheckConclusion.Failure, title, text, annotations);
    }

    private static void AppendList(StringBuilder summary, string heading, IReadOnlyList<string> names)
    {
        if (names.Count > 0)
        {
            summary.Append(heading).Append(": ").AppendJoin(", ", names.Select(n => $"`{n}`")).Append('\n');
        }
    }

    private static string CultureInvariant(FormattableString text) => FormattableString.Invariant(text);

    private static GitHubClient CreateClient(GitHubOptions settings, TimeProvider time)
    {
        // Used as given, unlike GitHubClient(product, uri), which swaps any path for /api/v3/ on hosts other than github.com.
        var apiUrl = new Uri(settings.ApiUrl.EndsWith('/') ? settings.ApiUrl : settings.ApiUrl + "/");
        ICredentialStore credentials = settings.UsesApp
            ? new GitHubAppCredentials(settings.AppId!.Value, settings.PrivateKeyPath!, settings.InstallationId!.Value, apiUrl, time)
            : new InMemoryCredentialStore(string.IsNullOrEmpty(settings.Token) ? Credentials.Anonymous : new Credentials(settings.Token));
        var connection = new Connection(Product, apiUrl, credentials);
        connection.SetRequestTimeout(TimeSpan.FromSeconds(30));
        return new GitHubClient(connection);
    }

    private sealed class Progress
    {
        public long? RunId { get; set; }

        public int Sent { get; set; }
    }

    [LoggerMessage(EventId = 620, Level = LogLevel.Information, Message = "Posted the runbooks check on {Commit}: {Conclusion}, {Annotations} annotations")]
    private partial void LogPosted(string commit, string conclusion, int annotations);

    [LoggerMessage(EventId = 621, Level = LogLevel.Information, Message = "Commit {Commit} already has a runbooks check (another node posted it); not posting another")]
    private partial void LogAlreadyChecked(string commit);

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
