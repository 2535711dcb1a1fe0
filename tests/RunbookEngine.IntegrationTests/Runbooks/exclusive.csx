// ---
// description: Refuses a second run for a target while one is active
// parameters:
//   work: { type: string, required: true }
//   target: { type: string, required: true }
//   name: { type: string, required: true }
// concurrency: "{{ params.target }}"
// on_conflict: refuse
// ---
var work = Params.Get<string>("work");
var name = Params.Get<string>("name");
await Step("hold", async ct =>
{
    File.WriteAllText(Path.Combine(work, "started-" + name), "");
    using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
    while (!File.Exists(Path.Combine(work, "release-" + name)) && await tick.WaitForNextTickAsync(ct))
    {
    }
});
