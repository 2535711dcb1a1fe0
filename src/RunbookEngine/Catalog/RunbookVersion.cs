namespace RunbookEngine.Catalog;

/// <summary>One version of a runbook: a content hash, the commit it was first seen at, and its source.</summary>
/// <param name="Runbook">The runbook.</param>
/// <param name="ContentHash">The SHA-256 of its source closure.</param>
/// <param name="Commit">The commit it was first seen at, when the source is in Git.</param>
/// <param name="Author">That commit's author.</param>
/// <param name="CommittedAt">When it was committed.</param>
/// <param name="Message">Its subject line.</param>
/// <param name="Valid">Whether it compiled and its front matter was valid.</param>
/// <param name="Errors">Its errors (<c>file:line: message</c>), when invalid.</param>
/// <param name="Files">Its source: the runbook and every file it loads, relative to the runbook folder. Empty in lists.</param>
/// <param name="FirstSeenAt">When the catalog first saw it.</param>
public sealed record RunbookVersion(
    string Runbook,
    string ContentHash,
    string? Commit,
    string? Author,
    DateTimeOffset? CommittedAt,
    string? Message,
    bool Valid,
    IReadOnlyList<string> Errors,
    IReadOnlyList<VersionFile> Files,
    DateTimeOffset FirstSeenAt)
{
    /// <summary>The pull request GitHub's API says the commit came from, when its message names none (the <c>github</c> source).</summary>
    public int? PullRequest { get; init; }
}

/// <summary>One file of a version's source.</summary>
/// <param name="Path">Relative to the runbook folder, with forward slashes.</param>
/// <param name="Text">Its text.</param>
public sealed record VersionFile(string Path, string Text);
