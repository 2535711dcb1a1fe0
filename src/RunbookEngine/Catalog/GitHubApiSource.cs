using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using Microsoft.Extensions.Logging;
using Octokit;
using Octokit.Caching;
using Octokit.Internal;
using RunbookEngine.GitHub;

namespace RunbookEngine.Catalog;

/// <summary>
/// Follows a branch of a GitHub repository through the REST API, with no <c>git</c> binary: the branch's head commit
/// (<c>GET /repos/{o}/{r}/commits/{branch}</c>, conditional on its ETag, so a poll that finds nothing new costs no rate
/// limit), then the tarball of exactly that commit, unpacked into a folder of its own and switched to only once it is
/// whole. A rate-limit answer or an outage pauses the polling (until the limit resets, or for a doubling wait) and is
/// logged once; meanwhile the catalog keeps serving what it has. Safe to call from one caller at a time.
/// </summary>
internal sealed partial class GitHubApiSource : IRunbookSourceProvider, ICommitExport
{
    // Folders of commits kept besides the current one: the one before, should the cluster's commit go back to it.
    private const int KeptCommits = 2;

    // GitHub asks for at least a minute's wait after a secondary rate limit that names no time.
    private static readonly TimeSpan DefaultRateLimitWait = TimeSpan.FromMinutes(1);

    private readonly GitHubOptions _github;
    private readonly string _owner;
    private readonly string _name;
    private readonly string _branch;
    private readonly string _subfolder;
    private readonly string _commitsFolder;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lazy<GitHubClient> _client;

    // Archives are read past Octokit, which buffers a whole response; redirects to codeload are followed.
    private static readonly HttpClient Archives = new() { Timeout = TimeSpan.FromMinutes(2) };

    // Why the source is waiting, until when; null when it is not.
    private (DateTimeOffset Until, string Reason)? _backoff;

    // Failed tries in a row during an outage; the wait doubles with each.
    private int _outageFailures;

    private CatalogRevision? _current;

    public GitHubApiSource(GitHubOptions github, GitCatalogOptions catalog, string dataPath, TimeProvider time, ILogger logger)
    {
        _github = github;
        (_owner, _name) = github.OwnerAndName() ?? throw new InvalidOperationException("RunbookEngine:GitHub:Repository must be owner/name when RunbookEngine:Catalog:Source is github");
        _branch = catalog.Branch;
        _subfolder = catalog.Path.Trim('/');
        _commitsFolder = Path.GetFullPath(Path.Combine(dataPath, "github", $"{_owner}-{_name}"));
        _time = time;
        _logger = logger;
        _client = new(() => GitHubConnection.Create(_github, _time, new CommitResponses()));
    }

    /// <summary>The bounds on an archive and what it unpacks to; the defaults outside tests.</summary>
    internal ArchiveCaps Caps { get; init; } = ArchiveCaps.Default;

    /// <summary>The first wait after an outage begins; each failed try after it doubles the wait.</summary>
    internal TimeSpan OutageBackoff { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a whole archive download may take, headers and body: <see cref="HttpClient.Timeout"/> stops at the headers
    /// when the body is streamed. Past it, GitHub counts as unavailable.
    /// </summary>
    internal TimeSpan ArchiveDeadline { get; init; } = Archives.Timeout;

    /// <summary>The longest wait between tries during an outage.</summary>
    internal TimeSpan MaxOutageBackoff { get; init; } = TimeSpan.FromMinutes(10);

    public string Kind => "github";

    public string Description => $"{GitHubLinks.WebBase(_github.ApiUrl)}{_owner}/{_name} ({_branch}{(_subfolder.Length == 0 ? "" : ", " + _subfolder)}, through the API)";

    public async Task<CatalogRevision> RefreshAsync(CancellationToken cancellationToken)
    {
        var commit = await CallAsync(client => client.Repository.Commit.Get(_owner, _name, _branch), $"the head of {_branch}", cancellationToken);
        if (_current is { } current && current.Commit == commit.Sha && Directory.Exists(current.RepositoryRoot))
        {
            return current;
        }

        return await MoveToAsync(commit, cancellationToken);
    }

    public async Task<CatalogRevision?> CheckoutAsync(string commit, CancellationToken cancellationToken)
    {
        if (_current is { } current && current.Commit == commit)
        {
            return current;
        }

        var metadata = await CallAsync(client => client.Repository.Commit.Get(_owner, _name, commit), $"commit {commit}", cancellationToken);
        return await MoveToAsync(metadata, cancellationToken);
    }

    public async Task<CatalogRevision> ExportAsync(string commit, int pullRequest, string folder, CancellationToken cancellationToken)
    {
        // The base repository's API serves a fork's commits of an open pull request by SHA, as it does its own.
        var metadata = await CallAsync(client => client.Repository.Commit.Get(_owner, _name, commit), $"commit {commit} of pull request #{pullRequest.ToString(CultureInfo.InvariantCulture)}", cancellationToken);
        await DownloadAsync(metadata.Sha, folder, cancellationToken);
        return Revision(metadata, folder);
    }

    private async Task<CatalogRevision> MoveToAsync(GitHubCommit commit, CancellationToken cancellationToken)
    {
        var folder = Path.Combine(_commitsFolder, commit.Sha);

        // A folder under its final name is whole: it is only ever renamed into place once unpacked.
        if (!Directory.Exists(folder))
        {
            var partial = Path.Combine(_commitsFolder, $".{commit.Sha}.{Guid.NewGuid():N}");
            try
            {
                await DownloadAsync(commit.Sha, partial, cancellationToken);
                Directory.Move(partial, folder);
            }
            finally
            {
                if (Directory.Exists(partial))
                {
                    Directory.Delete(partial, recursive: true);
                }
            }
        }

        _current = Revision(commit, folder) with { PullRequest = await MergedFromAsync(commit, cancellationToken) };
        Prune(commit.Sha);
        return _current;
    }

    /// <summary>
    /// The pull request a commit was merged from, asked of GitHub (<c>GET /repos/{o}/{r}/commits/{sha}/pulls</c>) only when
    /// its message names none: a rebase merge or a fast-forward keeps the author's message. Provenance only, so a failure
    /// leaves it unknown rather than failing the sync.
    /// </summary>
    private async Task<int?> MergedFromAsync(GitHubCommit commit, CancellationToken cancellationToken)
    {
        if (GitHubLinks.PullRequestNumber(commit.Commit.Message) is not null)
        {
            return null;
        }

        try
        {
            var pulls = await CallAsync(client => client.Repository.Commit.PullRequests(_owner, _name, commit.Sha), $"the pull requests of {commit.Sha}", cancellationToken);
            var merged = pulls.Where(p => p.MergedAt is not null).ToList();
            return (merged.FirstOrDefault(p => p.Base?.Ref == _branch) ?? merged.FirstOrDefault())?.Number;
        }
        catch (SourceUnavailableException)
        {
            return null;
        }
    }

    private CatalogRevision Revision(GitHubCommit commit, string folder)
    {
        var author = commit.Commit.Author is { } a ? $"{a.Name} <{a.Email}>" : null;
        var subject = commit.Commit.Message?.Split('\n', 2)[0].TrimEnd('\r');
        return new CatalogRevision(_subfolder.Length == 0 ? folder : Path.Combine(folder, _subfolder), commit.Sha, author, commit.Commit.Committer?.Date, subject, folder);
    }

    private async Task DownloadAsync(string sha, string folder, CancellationToken cancellationToken)
    {
        // Beside the folder, never in it: the folder must hold exactly the commit.
        var archive = Path.TrimEndingDirectorySeparator(folder) + ".tar.gz";
        Directory.CreateDirectory(Path.GetDirectoryName(archive)!);
        try
        {
            var complete = await CallAsync(_ => SaveArchiveAsync(sha, archive, cancellationToken), $"the archive of {sha}", cancellationToken);
            if (!complete)
            {
                throw new InvalidDataException(CatalogArchive.TooLarge("it", Caps.MaxArchiveBytes) + "; the catalog keeps serving its last good version");
            }

            await using var file = File.OpenRead(archive);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await CatalogArchive.UnpackAsync(gzip, folder, stripTopFolder: true, Caps, _subfolder, cancellationToken);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"The archive of {sha} from {_owner}/{_name} was refused: {ex.Message}", ex);
        }
        finally
        {
            File.Delete(archive);
        }
    }

    /// <summary>
    /// Streams the tarball of <paramref name="sha"/> to <paramref name="path"/>, stopping as soon as it passes
    /// <see cref="ArchiveCaps.MaxArchiveBytes"/>: Octokit's own call reads a whole archive into memory first.
    /// </summary>
    /// <returns>True when the whole archive is on disk; false when it was cut off at the cap.</returns>
    private async Task<bool> SaveArchiveAsync(string sha, string path, CancellationToken cancellationToken)
    {
        var connection = _client.Value.Connection;
        var credentials = await connection.CredentialStore.GetCredentials();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(connection.BaseAddress, $"repos/{Uri.EscapeDataString(_owner)}/{Uri.EscapeDataString(_name)}/tarball/{sha}"));
        request.Headers.UserAgent.ParseAdd($"{GitHubChecks.Product.Name} (https://github.com/octokit/octokit.net)");
        request.Headers.Accept.ParseAdd("application/vnd.github+json");
        if (credentials.AuthenticationType != AuthenticationType.Anonymous && !string.IsNullOrEmpty(credentials.Password))
        {
            // As Octokit sends it; the redirect to codeload carries its own token, and HttpClient drops this header there.
            request.Headers.TryAddWithoutValidation("Authorization", $"Token {credentials.Password}");
        }

        // The host's shutdown stays a cancellation; the deadline's becomes a timeout, which counts as an outage.
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(ArchiveDeadline);
        try
        {
            return await StreamArchiveAsync(request, path, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the archive of {sha} did not arrive within {RunbookEngine.Sdk.Durations.Format(ArchiveDeadline)}");
        }
    }

    private async Task<bool> StreamArchiveAsync(HttpRequestMessage request, string path, CancellationToken cancellationToken)
    {
        using var response = await Archives.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            // As an Octokit answer, so a rate limit or an outage is waited out as for every other call.
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
            throw new ApiException(new RefusedArchive(response.StatusCode, body, headers, response.Content.Headers.ContentType?.MediaType ?? "application/json"));
        }

        if (response.Content.Headers.ContentLength > Caps.MaxArchiveBytes)
        {
            return false;
        }

        await using var input = await response.Content.ReadAsStreamAsync(cancellationToken);
        await using var output = Local(path, () => File.Create(path));
        var buffer = new byte[81920];
        var total = 0L;
        int read;
        while ((read = await input.ReadAsync(buffer, cancellationToken)) > 0)
        {
            total += read;
            if (total > Caps.MaxArchiveBytes)
            {
                return false;
            }

            await Local(path, async () =>
            {
                await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                return true;
            });
        }

        return await Local(path, async () =>
        {
            await output.FlushAsync(cancellationToken);
            return true;
        });
    }

    // The host's disk failing (full, read-only) is not GitHub being unavailable: told apart, naming the local file.
    private static T Local<T>(string path, Func<T> write)
    {
        try
        {
            return write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LocalArchiveException(path, ex);
        }
    }

    private static async Task<T> Local<T>(string path, Func<Task<T>> write)
    {
        try
        {
            return await write();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new LocalArchiveException(path, ex);
        }
    }

    /// <summary>Unpacks GitHub's tarball without its top folder (<c>owner-repo-sha7/</c>), within <see cref="CatalogArchive"/>'s caps.</summary>
    internal static Task Unpack(byte[] tarball, string folder, CancellationToken cancellationToken) =>
        Unpack(tarball, folder, CatalogArchive.MaxEntries, CatalogArchive.MaxUnpackedBytes, "", cancellationToken);

    /// <summary>Unpacks GitHub's tarball without its top folder, within the caps given, judging links under <paramref name="followed"/> only.</summary>
    internal static async Task Unpack(byte[] tarball, string folder, int maxEntries, long maxUnpackedBytes, string followed, CancellationToken cancellationToken)
    {
        CatalogArchive.CheckSize(tarball.LongLength, "the archive");
        using var gzip = new GZipStream(new MemoryStream(tarball), CompressionMode.Decompress);
        await CatalogArchive.UnpackAsync(gzip, folder, stripTopFolder: true, maxEntries, maxUnpackedBytes, followed, cancellationToken);
    }

    private void Prune(string keep)
    {
        try
        {
            var old = new DirectoryInfo(_commitsFolder).EnumerateDirectories()
                .Where(d => d.Name != keep && !d.Name.StartsWith('.'))
                .OrderByDescending(d => d.CreationTimeUtc)
                .Skip(KeptCommits - 1);
            foreach (var directory in old)
            {
                directory.Delete(recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Disk only: a folder left over is deleted by a later prune.
        }
    }

    /// <summary>
    /// One API call, unless the source is waiting out a rate limit or an outage. Every failure becomes a
    /// <see cref="SourceUnavailableException"/>; a wait is logged as it begins, and not again until it has passed.
    /// </summary>
    private async Task<T> CallAsync<T>(Func<GitHubClient, Task<T>> call, string what, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        if (_backoff is { } waiting && now < waiting.Until)
        {
            throw new SourceUnavailableException($"{waiting.Reason}; the GitHub API is asked again after {Format(waiting.Until)}") { Logged = true };
        }

        T result;
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            result = await call(_client.Value);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is not LocalArchiveException && ex is not OperationCanceledException or TaskCanceledException)
        {
            throw Failed(ex, what, now);
        }

        if (_backoff is not null || _outageFailures > 0)
        {
            LogAnswersAgain(_owner, _name);
        }

        _backoff = null;
        _outageFailures = 0;

        // The answer that used the last request of the window says so; waiting now saves a refusal.
        if (_client.Value.GetLastApiInfo()?.RateLimit is { Remaining: 0 } limit && limit.Reset > now)
        {
            _backoff = (limit.Reset, "GitHub's rate limit for this host is used up");
            LogRateLimited(_owner, _name, Format(limit.Reset));
        }

        return result;
    }

    private SourceUnavailableException Failed(Exception ex, string what, DateTimeOffset now)
    {
        var status = ex is ApiException api ? (int)api.StatusCode : 0;
        var headers = (ex as ApiException)?.HttpResponse?.Headers;
        if (status is 403 or 429 && RateLimitedUntil(status, headers, now) is { } until)
        {
            _backoff = (until, $"GitHub refused to read {what}: rate limit reached ({status.ToString(CultureInfo.InvariantCulture)})");
            LogRateLimited(_owner, _name, Format(until));
            return new SourceUnavailableException($"{_backoff.Value.Reason}; the GitHub API is asked again after {Format(until)}", ex) { Logged = true };
        }

        var outage = status >= 500 || ex is HttpRequestException or TaskCanceledException or TimeoutException or IOException;
        if (!outage)
        {
            // A refusal (no access, a repository or branch that does not exist) does not go away by waiting: it stays loud.
            var reason = status == (int)HttpStatusCode.NotFound
                ? $"GitHub has no {what} in {_owner}/{_name}, or the credentials cannot read it (404); check RunbookEngine:GitHub:Repository, RunbookEngine:Catalog:Git:Branch and the token's or App's contents permission"
                : $"GitHub refused to read {what} ({(status == 0 ? ex.GetType().Name : status.ToString(CultureInfo.InvariantCulture))}: {ex.Message})";
            return new SourceUnavailableException(reason, ex);
        }

        _outageFailures++;
        var wait = TimeSpan.FromTicks(Math.Min(MaxOutageBackoff.Ticks, OutageBackoff.Ticks * (1L << Math.Min(_outageFailures - 1, 20))));
        var next = now + wait;
        var cause = status >= 500 ? $"it answered {status.ToString(CultureInfo.InvariantCulture)}" : $"{ex.GetType().Name}: {ex.Message}";
        _backoff = (next, $"the GitHub API is unavailable ({cause})");
        if (_outageFailures == 1)
        {
            LogOutage(_owner, _name, cause, _current?.Commit ?? "nothing yet");
        }

        return new SourceUnavailableException($"reading {what} failed: {_backoff.Value.Reason}; asked again after {Format(next)}", ex) { Logged = true };
    }

    /// <summary>
    /// When a refusal says to come back: <c>retry-after</c> (seconds), else <c>x-ratelimit-reset</c> (epoch seconds) when
    /// <c>x-ratelimit-remaining</c> is 0, else a minute for a 429. A 403 with neither is a permission refusal, not a limit.
    /// </summary>
    internal static DateTimeOffset? RateLimitedUntil(int status, IReadOnlyDictionary<string, string>? headers, DateTimeOffset now)
    {
        string? Header(string name) => headers?.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

        if (long.TryParse(Header("retry-after"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            return now.AddSeconds(Math.Max(1, seconds));
        }

        if (Header("x-ratelimit-remaining") == "0")
        {
            return long.TryParse(Header("x-ratelimit-reset"), NumberStyles.None, CultureInfo.InvariantCulture, out var reset) && DateTimeOffset.FromUnixTimeSeconds(reset) > now
                ? DateTimeOffset.FromUnixTimeSeconds(reset)
                : now + DefaultRateLimitWait;
        }

        return status == 429 ? now + DefaultRateLimitWait : null;
    }

    private static string Format(DateTimeOffset time) => time.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    [LoggerMessage(EventId = 630, Level = LogLevel.Warning, Message = "GitHub's rate limit stops reading {Owner}/{Repository}; the catalog keeps serving what it has and asks again after {Until}")]
    private partial void LogRateLimited(string owner, string repository, string until);

    [LoggerMessage(EventId = 631, Level = LogLevel.Warning, Message = "The GitHub API is unavailable for {Owner}/{Repository} ({Cause}); the catalog keeps serving {Commit} and asks again with a doubling wait")]
    private partial void LogOutage(string owner, string repository, string cause, string commit);

    [LoggerMessage(EventId = 632, Level = LogLevel.Information, Message = "The GitHub API answers again for {Owner}/{Repository}")]
    private partial void LogAnswersAgain(string owner, string repository);

    /// <summary>A refusal of an archive request, in the shape Octokit's exceptions carry, so it is judged as theirs are.</summary>
    private sealed class RefusedArchive(HttpStatusCode status, string body, IReadOnlyDictionary<string, string> headers, string contentType) : IResponse
    {
        public object Body => body;

        public IReadOnlyDictionary<string, string> Headers => headers;

        public ApiInfo ApiInfo => null!;

        public HttpStatusCode StatusCode => status;

        public string ContentType => contentType;
    }

    /// <summary>
    /// Keeps the last answer about each commit or branch with its ETag, so Octokit sends <c>If-None-Match</c> and a
    /// <c>304 Not Modified</c> (which GitHub does not count against the rate limit) is answered from here. Archives are
    /// never kept: they are large, and fetched once per commit anyway.
    /// </summary>
    private sealed class CommitResponses : IResponseCache
    {
        // A handful of branches and commits is all a source asks about; the bound only stops a leak.
        private const int Limit = 64;

        private readonly ConcurrentDictionary<string, CachedResponse.V1> _responses = new(StringComparer.Ordinal);

        public Task<CachedResponse.V1> GetAsync(IRequest request) =>
            Task.FromResult(_responses.TryGetValue(Key(request), out var response) ? response : null!);

        public Task SetAsync(IRequest request, CachedResponse.V1 cachedResponse)
        {
            if (cachedResponse.StatusCode == HttpStatusCode.OK && !string.IsNullOrEmpty(cachedResponse.ApiInfo?.Etag) && Key(request).Contains("/commits/", StringComparison.Ordinal))
            {
                if (_responses.Count >= Limit)
                {
                    _responses.Clear();
                }

                _responses[Key(request)] = cachedResponse;
            }

            return Task.CompletedTask;
        }

        private static string Key(IRequest request) => request.Endpoint.ToString();
    }
}
