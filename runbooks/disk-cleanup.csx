// ---
// description: Free disk space when a filesystem passes a usage threshold, by deleting old files that match a pattern under one directory
// owner: sre
// tags: [disk, linux]
// alerts:
//   - name: NodeFilesystemAlmostFull
//     labels: { severity: "warning|critical" }
// parameters:
//   path: { type: string, default: /var/tmp/runbook-demo, from: annotations.cleanup_path, description: the directory to clean }
//   threshold_percent: { type: int, default: 80, description: act only when the filesystem is fuller than this }
//   older_than: { type: duration, default: 7d, description: delete only files last written longer ago than this }
//   pattern: { type: string, default: "*.log", description: which files may be deleted }
//   allowed_roots: { type: string, default: "/var/log,/var/tmp,/tmp", description: comma-separated folders the path must lie under; an alert cannot point the cleanup elsewhere }
// manual_minutes: 15
// concurrency: "disk:{{ params.path }}"
// timeout: 10m
// ---
#load "lib/common.csx"

var path = Params.Get<string>("path");
var threshold = Params.Get<int>("threshold_percent");
var olderThan = Params.Get<TimeSpan>("older_than");
var pattern = Params.Get<string>("pattern");

if (!Directory.Exists(path))
{
    throw new RunbookFailedException($"{path} does not exist; check the alert's cleanup_path annotation or pass --param path=...");
}

// The path may come from an alert annotation: resolve links and insist it lies under an allowed root.
var realPath = RealDirectoryUnderAllowedRoot(path, Params.Get<string>("allowed_roots"));

var before = await Step("measure usage", async ct =>
    ParseDfPercent((await Shell($"df --output=pcent {path}", ct, readOnly: true, check: true)).StdOut));
Log.Info($"{path} is on a filesystem {before}% full (threshold {threshold}%)");
if (before < threshold)
{
    Log.Info("below the threshold: nothing to do");
    return;
}

var cutoff = Now - olderThan;
// Symbolic links (to files or folders) are skipped: following one could delete outside the path.
// The delete step checks each file again, as the tree can change between listing and deleting.
var walk = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint, IgnoreInaccessible = true };
var candidates = await Step("find old files", ct => Task.FromResult(
    new DirectoryInfo(realPath).EnumerateFiles(pattern, walk)
        .Where(file => file.LastWriteTimeUtc < cutoff.UtcDateTime)
        .Select(file => file.FullName)
        .Order()
        .ToArray()));
var bytes = candidates.Sum(file => File.Exists(file) ? new FileInfo(file).Length : 0);
Log.Info($"{candidates.Length} file(s) matching {pattern} older than {olderThan.TotalDays:0.#} days: {FormatBytes(bytes)}");

await Step("delete old files", ct =>
{
    long freed = 0;
    var deleted = 0;
    var skipped = 0;
    foreach (var file in candidates)
    {
        ct.ThrowIfCancellationRequested();

        // Log rotation may have removed it meanwhile.
        if (!File.Exists(file))
        {
            continue;
        }

        // The list was made earlier (on a resumed run, maybe on another node): a folder in it may since have been
        // swapped for a link that leads out of the path, so check again right before deleting.
        if (WhyNotSafeToDelete(file, realPath) is { } reason)
        {
            Log.Warn($"not deleting {file}: {reason}");
            skipped++;
            continue;
        }

        var length = new FileInfo(file).Length;
        File.Delete(file);
        freed += length;
        deleted++;
    }

    Log.Info($"deleted {deleted} file(s), {FormatBytes(freed)}{(skipped > 0 ? $"; skipped {skipped} that failed the check against links (see above)" : "")}");
    return Task.CompletedTask;
}, sideEffects: true, idempotent: true);

var after = await Step("measure again", async ct =>
    ParseDfPercent((await Shell($"df --output=pcent {path}", ct, readOnly: true, check: true)).StdOut));
Log.Info($"usage {before}% -> {after}%");
if (after >= threshold)
{
    Log.Warn($"still at or above {threshold}% after cleanup: the space is used by something else; a person must look");
}
