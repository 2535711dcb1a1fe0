// ---
// description: Three steps, the middle one held open on a gate file, each leaving a line in a tally so a test can count how often it really ran
// parameters:
//   work: { type: string, required: true, description: "a folder; the gate file 'open' appears here, the tally is <run id>.tally" }
// ---
var work = Params.Get<string>("work");
var tally = Path.Combine(work, Run.Id + ".tally");

// Not idempotent on purpose: a step that ran twice shows in the tally, and a resume that would repeat one stops instead.
await Step("before", ct => File.AppendAllTextAsync(tally, "before\n", ct));
await Step("while the store is away", async ct =>
{
    File.AppendAllText(tally, "held\n");
    using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
    while (!File.Exists(Path.Combine(work, "open")) && await tick.WaitForNextTickAsync(ct))
    {
    }
});
await Step("after", ct => File.AppendAllTextAsync(tally, "after\n", ct));
