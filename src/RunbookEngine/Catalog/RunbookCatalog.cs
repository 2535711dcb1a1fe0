using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using RunbookEngine.Scripting;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Storage;

namespace RunbookEngine.Catalog;

/// <summary>
/// The runbooks the host can run, at one revision of their source (a folder, or one commit of a Git branch). A sync
/// reads and compiles the new revision in the background and then switches every runbook at once. A runbook that does
/// not compile at the new revision keeps serving its last good version and carries the new errors beside it; one that
/// is gone stops being offered. Every version seen is recorded with its source, so a run pinned to a version runs
/// exactly that version on any node, even after the catalog has moved on.
/// </summary>
public sealed partial class RunbookCatalog : IDisposable
{
    private readonly IRunbookSourceProvider _source;
    private readonly RunbookCompiler _compiler;
    private readonly IVersionStore _versions;
    private readonly TimeProvider _time;
    private readonly ILogger<RunbookCatalog> _logger;
    private readonly string _versionFolder;
    private readonly string _pullRequestFolder;
    private readonly SemaphoreSlim _sync = new(1, 1);
    private volatile Snapshot _snapshot = new(ImmutableSortedDictionary.Create<string, CatalogEntry>(StringComparer.Ordinal), null);

    /// <summary>Creates the catalog.</summary>
    /// <param name="source">Where runbooks come from.</param>
    /// <param name="compiler">The compiler (with its disk cache).</param>
    /// <param name="versions">Where versions are recorded.</param>
    /// <param name="dataPath">Where pinned versions are written out to be compiled.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The log.</param>
    public RunbookCatalog(IRunbookSourceProvider source, RunbookCompiler compiler, IVersionStore versions, string dataPath, TimeProvider time, ILogger<RunbookCatalog> logger)
    {
        _source = source;
        _compiler = compiler;
        _versions = versions;
        _time = time;
        _logger = logger;
        _versionFolder = Path.GetFullPath(Path.Combine(dataPath, "versions"));
        _pullRequestFolder = Path.GetFullPath(Path.Combine(dataPath, "pulls"));
    }

    /// <summary>
    /// Whether an SLO by this name is configured, for <c>budget_gate:</c>; null accepts any (a tool with no host settings).
    /// A runbook gated on an SLO the host does not have is refused at load, as a typo must not mean "always unknown".
    /// </summary>
    public Func<string, bool>? KnowsSlo { get; init; }

    /// <summary>True once the first load has finished.</summary>
    public bool IsReady { get; private set; }

    /// <summary>The folder of the current revision.</summary>
    public string Root => _snapshot.Revision?.Root ?? "";

    /// <summary>The current revision: its folder and, in Git, its commit.</summary>
    public CatalogRevision? Revision => _snapshot.Revision;

    /// <summary>Where runbooks come from: <c>folder</c>, <c>git</c> or <c>github</c>.</summary>
    public string SourceKind => _source.Kind;

    /// <summary>Whether the source is a repository followed commit by commit (<c>git</c> or <c>github</c>), which a cluster follows together.</summary>
    public bool FollowsCommits => _source.Kind is "git" or "github";

    /// <summary>Whether a commit other than the followed one can be validated (a pull request's head).</summary>
    public bool CanValidateCommits => _source is ICommitExport;

    /// <summary>The source, for people.</summary>
    public string SourceDescription => _source.Description;

    /// <summary>When the last sync finished, and its error if it failed.</summary>
    public (DateTimeOffset? At, string? Error) LastSync { get; private set; }

    /// <summary>Every runbook, valid or not, by name.</summary>
    public IReadOnlyList<CatalogEntry> Entries => [.. _snapshot.Entries.Values];

    /// <summary>A runbook by name, or null.</summary>
    /// <param name="name">The runbook name.</param>
    /// <returns>The entry or null.</returns>
    public CatalogEntry? Find(string name) => _snapshot.Entries.TryGetValue(name, out var entry) ? entry : null;

    /// <summary>The first load. Unlike later syncs, a missing folder or an unreachable remote stops the host here.</summary>
    /// <param name="cancellationToken">Cancels the load.</param>
    /// <returns>A task that completes when every runbook is loaded or has its errors.</returns>
    public async Task LoadAsync(CancellationToken cancellationToken)
    {
        await SyncAsync(cancellationToken, throwOnFailure: true);
        IsReady = true;
    }

    /// <summary>Brings the source up to date and switches to what it holds, if anything changed.</summary>
    /// <param name="cancellationToken">Cancels the sync.</param>
    /// <param name="throwOnFailure">Whether a failure throws (the first load) or is logged and kept in <see cref="LastSync"/>.</param>
    /// <returns>What changed.</returns>
    public async Task<CatalogChange> SyncAsync(CancellationToken cancellationToken, bool throwOnFailure = false)
    {
        await _sync.WaitAsync(cancellationToken);
        try
        {
            var revision = await _source.RefreshAsync(cancellationToken);
            return await ApplyAsync(revision, cancellationToken);
        }
        catch (Exception ex) when (!throwOnFailure && ex is GitException or IOException or UnauthorizedAccessException or DirectoryNotFoundException or InvalidDataException)
        {
            LastSync = (_time.GetUtcNow(), ex.Message);
            LogSyncFailedOnce(ex);
            return CatalogChange.None(_snapshot.Revision?.Commit, ex.Message);
        }
        finally
        {
            _sync.Release();
        }
    }

    /// <summary>Moves to a commit another node has validated, when it differs from the current one.</summary>
    /// <param name="commit">The commit.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>What changed.</returns>
    public async Task<CatalogChange> FollowAsync(string commit, CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken);
        try
        {
            if (_snapshot.Revision?.Commit == commit)
            {
                return CatalogChange.None(commit, null);
            }

            var revision = await _source.CheckoutAsync(commit, cancellationToken);
            return revision is null ? CatalogChange.None(_snapshot.Revision?.Commit, null) : await ApplyAsync(revision, cancellationToken);
        }
        catch (Exception ex) when (ex is GitException or IOException or UnauthorizedAccessException or DirectoryNotFoundException or InvalidDataException)
        {
            LastSync = (_time.GetUtcNow(), ex.Message);
            LogSyncFailedOnce(ex);
            return CatalogChange.None(_snapshot.Revision?.Commit, ex.Message);
        }
        finally
        {
            _sync.Release();
        }
    }

    // A source that backs off (the GitHub API's rate limit, an outage) logs once for the whole backoff, not every poll.
    private void LogSyncFailedOnce(Exception ex)
    {
        if (ex is not SourceUnavailableException { Logged: true })
        {
            LogSyncFailed(ex.Message);
        }
    }

    /// <summary>
    /// Compiles every runbook at a commit the catalog does not follow (a pull request's head) without serving or recording
    /// any of it: the served versions, the version store and the cluster's commit stay as they are.
    /// </summary>
    /// <param name="commit">The commit's SHA.</param>
    /// <param name="pullRequest">The pull request whose head it is.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>Every runbook there (each compiled version already unloaded), and how they differ from what is served.</returns>
    public Task<CommitValidation> ValidateCommitAsync(string commit, int pullRequest, CancellationToken cancellationToken) =>
        ValidateCommitAsync(commit, pullRequest, null, cancellationToken);

    /// <summary>
    /// Compiles every runbook at a commit the catalog does not follow, as above, then hands the exported commit to
    /// <paramref name="whileExported"/> (to run its test cases) before its folder is deleted.
    /// </summary>
    /// <param name="commit">The commit's SHA.</param>
    /// <param name="pullRequest">The pull request whose head it is.</param>
    /// <param name="whileExported">Called with the commit's revision once every runbook is judged; its folder exists until it returns.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>Every runbook there (each compiled version already unloaded), and how they differ from what is served.</returns>
    public async Task<CommitValidation> ValidateCommitAsync(string commit, int pullRequest, Func<CatalogRevision, CancellationToken, Task>? whileExported, CancellationToken cancellationToken)
    {
        if (_source is not ICommitExport export)
        {
            throw new InvalidOperationException($"the catalog reads a {_source.Kind}, which has no commits to check; pull requests are checked with RunbookEngine:Catalog:Source git or github");
        }

        var folder = Path.Combine(_pullRequestFolder, $"{pullRequest}-{commit[..Math.Min(12, commit.Length)]}-{Guid.NewGuid():N}");
        try
        {
            CatalogRevision revision;

            // The export shares the source's clone or client with the syncs, which are one at a time; the compiling is not.
            await _sync.WaitAsync(cancellationToken);
            try
            {
                Directory.CreateDirectory(folder);
                revision = await export.ExportAsync(commit, pullRequest, folder, cancellationToken);
            }
            finally
            {
                _sync.Release();
            }

            var runbooks = new RunbookFolder(revision.Root);
            var served = _snapshot;
            var entries = new List<CatalogEntry>();
            var added = new List<string>();
            var updated = new List<string>();
            var failed = new List<string>();
            foreach (var name in runbooks.Exists ? runbooks.Names() : [])
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (runbooks.Read(name) is not { } document)
                {
                    continue;
                }

                var entry = await JudgeAsync(document, revision, cancellationToken);
                entries.Add(entry);
                var now = served.Entries.GetValueOrDefault(name);
                if (now is null)
                {
                    added.Add(name);
                }
                else if (now.ContentHash != entry.ContentHash)
                {
                    updated.Add(name);
                }

                if (!entry.IsValid)
                {
                    failed.Add(name);
                }
            }

            var removed = served.Entries.Keys.Where(name => entries.All(e => e.Name != name)).ToList();

            // After the compiles, which leave the compile cache warm for whatever runs the commit's code next.
            if (whileExported is not null)
            {
                await whileExported(revision, cancellationToken);
            }

            return new CommitValidation(revision, entries, new CatalogChange(revision.Commit, added, updated, removed, failed, null));
        }
        finally
        {
            try
            {
                Directory.Delete(folder, recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Left for the next validation of the same pull request to sit beside; it is never read again.
            }
        }
    }

    private async Task<CatalogEntry> JudgeAsync(RunbookDocument document, CatalogRevision revision, CancellationToken cancellationToken)
    {
        document = AgainstHostSettings(document);
        CompiledRunbook? compiled = null;
        IReadOnlyList<RunbookDiagnostic> diagnostics = document.Diagnostics;
        if (document.IsValid)
        {
            var result = await _compiler.CompileAsync(document.Source, cancellationToken);
            compiled = result.Runbook;
            diagnostics = result.Diagnostics;

            // Judged, never run: retired at once, so it unloads.
            compiled?.Dispose();
        }

        return new CatalogEntry(document.Name, document.Definition, document.Source.ContentHash, compiled, RelativeToRepository(diagnostics, revision), revision.Commit);
    }

    /// <summary>The document with an error for each front matter setting that names something this host lacks.</summary>
    private RunbookDocument AgainstHostSettings(RunbookDocument document) =>
        HostRefusal(document) is { } refusal ? document with { Diagnostics = [.. document.Diagnostics, refusal] } : document;

    /// <summary>This node's refusal of a valid version that names something this host lacks, or null.</summary>
    private RunbookDiagnostic? HostRefusal(RunbookDocument document)
    {
        if (document.Definition?.BudgetGate is not { } gate || KnowsSlo is not { } knows || knows(gate.Slo))
        {
            return null;
        }

        var lines = document.Source.Text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var line = Array.FindIndex(lines, l => l.Contains("budget_gate", StringComparison.Ordinal)) + 1;
        return RunbookDiagnostic.Error(document.Source.MainPath, Math.Max(line, 1), "RB110",
            $"`budget_gate.slo`: no SLO '{gate.Slo}' is configured on this host; name one configured under RunbookEngine:Slos");
    }

    private static IReadOnlyList<RunbookDiagnostic> RelativeToRepository(IReadOnlyList<RunbookDiagnostic> diagnostics, CatalogRevision revision)
    {
        if (revision.RepositoryRoot is not { } repository)
        {
            return diagnostics;
        }

        var prefix = RunbookDiagnostic.DisplayPath(repository) + "/";
        return [.. diagnostics.Select(d => d.File.StartsWith(prefix, StringComparison.Ordinal) ? d with { File = d.File[prefix.Length..] } : d)];
    }

    private async Task<CatalogChange> ApplyAsync(CatalogRevision revision, CancellationToken cancellationToken)
    {
        var folder = new RunbookFolder(revision.Root);
        if (!folder.Exists)
        {
            throw new DirectoryNotFoundException(FollowsCommits
                ? $"the folder {revision.Root} does not exist at commit {revision.Commit}; check RunbookEngine:Catalog:Git:Path"
                : $"the runbook folder {folder.Root} does not exist; create it, start the host from the folder that holds runbooks/, or set RunbookEngine:RunbooksPath");
        }

        var old = _snapshot;
        var entries = ImmutableSortedDictionary.CreateBuilder<string, CatalogEntry>(StringComparer.Ordinal);
        var added = new List<string>();
        var updated = new List<string>();
        var failed = new List<string>();
        foreach (var name in folder.Names())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var document = folder.Read(name);
            if (document is null)
            {
                continue;
            }

            var hash = document.Source.ContentHash;
            var previous = old.Entries.GetValueOrDefault(name);
            if (previous is not null && previous.ContentHash == hash && (previous.IsValid || previous.Problem is null))
            {
                // Unchanged (or reverted to the version still serving): it holds at the new commit too.
                entries[name] = previous with { Commit = revision.Commit, Problem = null };
                continue;
            }

            if (previous?.Problem?.ContentHash == hash)
            {
                // Still the same broken version beside the one serving.
                entries[name] = previous;
                continue;
            }

            var entry = await BuildAsync(document, revision, previous, cancellationToken);
            entries[name] = entry;
            (previous is null ? added : updated).Add(name);
            if (entry.Problem is not null || !entry.IsValid)
            {
                failed.Add(name);
                LogInvalid(name, revision.Commit ?? hash[..12], string.Join("; ", (entry.Problem?.Diagnostics ?? entry.Diagnostics).Where(d => d.IsError)));
            }
        }

        var next = new Snapshot(entries.ToImmutable(), revision);
        var removed = old.Entries.Keys.Where(name => !next.Entries.ContainsKey(name)).ToList();
        _snapshot = next;

        // Versions no longer served are retired; each unloads when the last run using it ends.
        foreach (var (name, before) in old.Entries)
        {
            if (before.Compiled is { } compiled && (!next.Entries.TryGetValue(name, out var now) || !ReferenceEquals(now.Compiled, compiled)))
            {
                compiled.Dispose();
            }
        }

        LastSync = (_time.GetUtcNow(), null);
        var change = new CatalogChange(revision.Commit, added, updated, removed, failed, null);
        if (change.Changed)
        {
            LogSwitched(revision.Commit ?? "(no commit)", added.Count, updated.Count, removed.Count, failed.Count);
        }

        return change;
    }

    private async Task<CatalogEntry> BuildAsync(RunbookDocument document, CatalogRevision revision, CatalogEntry? previous, CancellationToken cancellationToken)
    {
        // The version store is shared by every node and keeps the first outcome recorded, so it gets the version's own
        // outcome; what this node lacks (an SLO) only decides what this node serves, below.
        CompiledRunbook? compiled = null;
        IReadOnlyList<RunbookDiagnostic> diagnostics = document.Diagnostics;
        if (document.IsValid)
        {
            var result = await _compiler.CompileAsync(document.Source, cancellationToken);
            compiled = result.Runbook;
            diagnostics = result.Diagnostics;
        }

        diagnostics = RelativeToRepository(diagnostics, revision);

        var hash = document.Source.ContentHash;
        await _versions.RecordVersionAsync(
            new RunbookVersion(document.Name, hash, revision.Commit, revision.Author, revision.CommittedAt, revision.Message, compiled is not null,
                [.. diagnostics.Where(d => d.IsError).Select(d => d.ToString())],
                [.. document.Source.Files.Select(f => new VersionFile(f.RelativePath, f.Text))],
                _time.GetUtcNow()) { PullRequest = revision.PullRequest },
            cancellationToken);

        if (HostRefusal(document) is { } refusal)
        {
            compiled?.Dispose();
            compiled = null;
            diagnostics = [.. diagnostics, .. RelativeToRepository([refusal], revision)];
        }

        if (compiled is not null)
        {
            return new CatalogEntry(document.Name, document.Definition, hash, compiled, diagnostics, revision.Commit);
        }

        // The new version is broken: keep serving the last good one, and say what is wrong with the new one.
        return previous is { IsValid: true }
            ? previous with { Problem = new CatalogProblem(hash, revision.Commit, diagnostics) }
            : new CatalogEntry(document.Name, document.Definition, hash, null, diagnostics, revision.Commit);
    }

    /// <summary>
    /// The exact version a run was queued with, leased for the run: the served one when it matches, otherwise rebuilt
    /// from the source recorded in the version store (another node's newer commit, or a version this node has moved past).
    /// </summary>
    /// <param name="runbook">The runbook.</param>
    /// <param name="contentHash">The version.</param>
    /// <param name="cancellationToken">Cancels the work.</param>
    /// <returns>The version, or why it cannot run.</returns>
    public async Task<ResolvedVersion> ResolveAsync(string runbook, string contentHash, CancellationToken cancellationToken)
    {
        if (Find(runbook) is { Compiled: { } served, Definition: { } definition } entry && entry.ContentHash == contentHash)
        {
            try
            {
                return new ResolvedVersion(definition, served, served.Lease(), null);
            }
            catch (ObjectDisposedException)
            {
                // Swapped out between the lookup and the lease; rebuild it from the store below.
            }
        }

        var version = await _versions.GetVersionAsync(runbook, contentHash, cancellationToken);
        if (version is null)
        {
            return ResolvedVersion.Failed($"version {contentHash[..12]} of runbook '{runbook}' is not in the version store");
        }

        if (!version.Valid)
        {
            return ResolvedVersion.Failed($"version {contentHash[..12]} of runbook '{runbook}' does not compile: {string.Join("; ", version.Errors)}");
        }

        var root = Path.Combine(_versionFolder, $"{runbook}-{contentHash[..16]}");
        foreach (var file in version.Files)
        {
            var path = Path.GetFullPath(Path.Combine(root, file.Path));
            if (!RunbookSource.IsInside(Path.GetFullPath(root), path))
            {
                return ResolvedVersion.Failed($"version {contentHash[..12]} of runbook '{runbook}' has a file outside its folder: {file.Path}");
            }

            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            if (!File.Exists(path) || await File.ReadAllTextAsync(path, cancellationToken) != file.Text)
            {
                await File.WriteAllTextAsync(path, file.Text, cancellationToken);
            }
        }

        var document = new RunbookFolder(root).Read(runbook);
        if (document is not { IsValid: true, Definition: { } pinnedDefinition } || document.Source.ContentHash != contentHash)
        {
            return ResolvedVersion.Failed($"version {contentHash[..12]} of runbook '{runbook}' could not be rebuilt from the version store");
        }

        var result = await _compiler.CompileAsync(document.Source, cancellationToken);
        if (result.Runbook is not { } compiled)
        {
            return ResolvedVersion.Failed($"version {contentHash[..12]} of runbook '{runbook}' does not compile on this node: {string.Join("; ", result.Diagnostics.Where(d => d.IsError))}");
        }

        // Owned by this run alone: retired at once, so it unloads when the run's lease ends.
        var lease = compiled.Lease();
        compiled.Dispose();
        return new ResolvedVersion(pinnedDefinition, compiled, lease, null);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var entry in _snapshot.Entries.Values)
        {
            entry.Compiled?.Dispose();
        }

        _sync.Dispose();
    }

    [LoggerMessage(EventId = 600, Level = LogLevel.Information, Message = "Catalog now at {Commit}: {Added} added, {Updated} changed, {Removed} removed, {Failed} failing")]
    private partial void LogSwitched(string commit, int added, int updated, int removed, int failed);

    [LoggerMessage(EventId = 601, Level = LogLevel.Warning, Message = "Runbook {Runbook} at {Commit} does not compile; its last good version keeps serving if it has one: {Errors}")]
    private partial void LogInvalid(string runbook, string commit, string errors);

    [LoggerMessage(EventId = 602, Level = LogLevel.Error, Message = "Syncing the runbook catalog failed; the current versions keep serving: {Error}")]
    private partial void LogSyncFailed(string error);

    private sealed record Snapshot(ImmutableSortedDictionary<string, CatalogEntry> Entries, CatalogRevision? Revision);
}

/// <summary>One runbook in the catalog: the version it serves, and what is wrong with a newer one if that does not compile.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Definition">Its front matter, or null when invalid.</param>
/// <param name="ContentHash">The hash of the served (or, when nothing serves, the latest) source closure.</param>
/// <param name="Compiled">The loaded version, or null when it does not compile.</param>
/// <param name="Diagnostics">Its front matter and compile errors and warnings.</param>
/// <param name="Commit">The commit the served version was loaded at, when the source is in Git.</param>
/// <param name="Problem">A newer version that does not compile, while this one keeps serving.</param>
public sealed record CatalogEntry(
    string Name,
    RunbookDefinition? Definition,
    string ContentHash,
    CompiledRunbook? Compiled,
    IReadOnlyList<RunbookDiagnostic> Diagnostics,
    string? Commit = null,
    CatalogProblem? Problem = null)
{
    /// <summary>Whether it can run.</summary>
    public bool IsValid => Definition is not null && Compiled is not null;
}

/// <summary>Every runbook at a commit that was compiled but not served (a pull request's head).</summary>
/// <param name="Revision">The commit, with its metadata.</param>
/// <param name="Entries">Each runbook there; a valid one's compiled version is already unloaded.</param>
/// <param name="Change">How they differ from what the catalog serves.</param>
public sealed record CommitValidation(CatalogRevision Revision, IReadOnlyList<CatalogEntry> Entries, CatalogChange Change);

/// <summary>A version that failed to compile while an older one keeps serving.</summary>
/// <param name="ContentHash">The failing version.</param>
/// <param name="Commit">The commit it came with.</param>
/// <param name="Diagnostics">Its errors.</param>
public sealed record CatalogProblem(string ContentHash, string? Commit, IReadOnlyList<RunbookDiagnostic> Diagnostics);

/// <summary>What a sync changed.</summary>
/// <param name="Commit">The commit the catalog is at.</param>
/// <param name="Added">New runbooks.</param>
/// <param name="Updated">Runbooks with a new version (served, or failing beside the served one).</param>
/// <param name="Removed">Runbooks gone from the source.</param>
/// <param name="Failed">Runbooks whose new version does not compile.</param>
/// <param name="Error">Why the sync failed, when it did.</param>
public sealed record CatalogChange(string? Commit, IReadOnlyList<string> Added, IReadOnlyList<string> Updated, IReadOnlyList<string> Removed, IReadOnlyList<string> Failed, string? Error)
{
    /// <summary>Whether any runbook changed.</summary>
    public bool Changed => Added.Count + Updated.Count + Removed.Count > 0;

    /// <summary>Nothing changed.</summary>
    /// <param name="commit">The current commit.</param>
    /// <param name="error">Why, when the sync failed.</param>
    /// <returns>The change.</returns>
    public static CatalogChange None(string? commit, string? error) => new(commit, [], [], [], [], error);
}

/// <summary>A runbook version ready to run, leased until disposed; or why there is none.</summary>
/// <param name="Definition">Its front matter.</param>
/// <param name="Compiled">Its code.</param>
/// <param name="Lease">Keeps it loaded.</param>
/// <param name="Error">Why it cannot run, when the others are null.</param>
public sealed record ResolvedVersion(RunbookDefinition? Definition, CompiledRunbook? Compiled, IDisposable? Lease, string? Error) : IDisposable
{
    /// <summary>A version that cannot run.</summary>
    /// <param name="error">Why.</param>
    /// <returns>The failure.</returns>
    public static ResolvedVersion Failed(string error) => new(null, null, null, error);

    /// <inheritdoc />
    public void Dispose() => Lease?.Dispose();
}
