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

var before = await Step("measure usage", async ct =>
    ParseDfPercent((await Shell($"df --output=pcent {path}", ct, readOnly: true, check: true)).StdOut));
Log.Info($"{path} is on a filesystem {before}% full (threshold {threshold}%)");
if (before < threshold)
{
    Log.Info("below the threshold: nothing to do");
    return;
}

var cutoff = Now - olderThan;
var candidates = await Step("find old files", ct => Task.FromResult(
    Directory.EnumerateFiles(path, pattern, SearchOption.AllDirectories)
        .Where(file => File.GetLastWriteTimeUtc(file) < cutoff.UtcDateTime)
        .Order()
        .ToArray()));
var bytes = candidates.Sum(file => new FileInfo(file).Length);
Log.Info($"{candidates.Length} file(s) matching {pattern} older than {olderThan.TotalDays:0.#} days: {FormatBytes(bytes)}");

await Step("delete old files", ct =>
{
    foreach (var file in candidates)
    {
        ct.ThrowIfCancellationRequested();
        File.Delete(file);
    }

    Log.Info($"deleted {candidates.Length} file(s), {FormatBytes(bytes)}");
    return Task.CompletedTask;
}, sideEffects: true, idempotent: true);

var after = await Step("measure again", async ct =>
    ParseDfPercent((await Shell($"df --output=pcent {path}", ct, readOnly: true, check: true)).StdOut));
Log.Info($"usage {before}% -> {after}%");
if (after >= threshold)
{
    Log.Warn($"still at or above {threshold}% after cleanup: the space is used by something else; a person must look");
}
