// ---
// description: One run at a time per target; holds until the test releases it
// parameters:
//   work: { type: string, required: true }
//   target: { type: string, required: true }
//   name: { type: string, required: true }
// concurrency: "{{ params.target }}"
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
