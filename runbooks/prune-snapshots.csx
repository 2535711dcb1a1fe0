// ---
// description: Delete old database snapshot files beyond the newest few, after the on-call confirms the off-site copy and approves; only under allowed roots, never through symbolic links
// owner: dba
// tags: [database, disk]
// alerts:
//   - name: SnapshotVolumeFilling
// parameters:
//   dir: { type: string, default: /var/tmp/runbook-demo/snapshots, from: labels.snapshot_dir, description: where the snapshots are }
//   keep: { type: int, default: 3, description: how many of the newest snapshots to keep }
//   allowed_roots: { type: string, default: "/var/backups,/var/tmp,/tmp", description: comma-separated folders dir must lie under; an alert cannot point the pruning elsewhere }
// manual_minutes: 20
// concurrency: "snapshots:{{ params.dir }}"
// timeout: 2h
// cancel_on_resolve: true
// ---
#load "lib/common.csx"

var dir = Params.Get<string>("dir");
var keep = Params.Get<int>("keep");

// dir may come from an alert label: resolve links and insist it lies under an allowed root.
var realDir = RealDirectoryUnderAllowedRoot(dir, Params.Get<string>("allowed_roots"));

// Symbolic links are skipped: deleting "through" one is how a label would reach files elsewhere.
var doomed = await Step("list snapshots", ct =>
{
    if (!Directory.Exists(realDir))
    {
        throw new RunbookFailedException($"{dir} does not exist");
    }

    return Task.FromResult(new DirectoryInfo(realDir).EnumerateFiles("*", new EnumerationOptions { AttributesToSkip = FileAttributes.ReparsePoint })
        .OrderByDescending(file => file.LastWriteTimeUtc)
        .Skip(keep)
        .Select(file => file.FullName)
        .ToArray());
});

if (doomed.Length == 0)
{
    Log.Info($"{keep} or fewer snapshots in {dir}: nothing to prune");
    return;
}

// On a resumed run some may be gone already.
var size = FormatBytes(doomed.Sum(file => File.Exists(file) ? new FileInfo(file).Length : 0));
await Manual($"Confirm in the backup console that the newest snapshot in {dir} has been copied off-site.", manualMinutes: 5);
var question = $"Delete {doomed.Length} old snapshot(s) in {dir} ({size}), keeping the newest {keep}?";
try
{
    // Four eyes: whoever started the run by hand may not also approve the deletion.
    await Approve(question, timeout: TimeSpan.FromMinutes(30), differentPerson: true);
}
catch (ApprovalRejectedException nobody) when (nobody.TimedOut)
{
    // Escalate instead of failing: the question goes to the DBA leads (RunbookEngine:Roles:dba-lead in the host).
    await Step("escalate to the DBA leads", ct =>
    {
        Log.Warn($"nobody approved within 30 minutes; asking dba-lead: {question}");
        return Task.CompletedTask;
    });
    await Approve(question + " (escalated)", role: "dba-lead");
}

await Step("delete snapshots", ct =>
{
    var deleted = 0;
    foreach (var file in doomed)
    {
        if (!File.Exists(file))
        {
            continue;
        }

        // The approval can take hours and the run may resume on another node: the folder may have been swapped for a
        // link since the list was made, so check again right before deleting.
        if (WhyNotSafeToDelete(file, realDir) is { } reason)
        {
            Log.Warn($"not deleting {file}: {reason}");
            continue;
        }

        File.Delete(file);
        deleted++;
    }

    Log.Info($"deleted {deleted} of {doomed.Length} snapshot(s), {size}");
    return Task.CompletedTask;
}, sideEffects: true, idempotent: true);
