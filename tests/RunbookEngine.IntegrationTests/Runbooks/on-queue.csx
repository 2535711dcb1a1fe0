// ---
// description: One run per instance at a time; queued runs are cancelled when their alert resolves
// alerts:
//   - name: SlowFix
// parameters:
//   instance: { type: string, required: true, from: labels.instance }
//   work: { type: string, required: true, from: annotations.work }
// concurrency: "fix:{{ params.instance }}"
// cancel_on_resolve: true
// ---
var work = Params.Get<string>("work");
await Step("fix", async ct =>
{
    File.AppendAllText(Path.Combine(work, "started-" + Run.Id), "started");
    using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
    while (!File.Exists(Path.Combine(work, "release")) && await tick.WaitForNextTickAsync(ct))
    {
    }
});
