// ---
// description: Records a first step, then holds in a second until released; for crash and recovery tests
// parameters:
//   work: { type: string, required: true, description: a folder the test watches }
//   idempotent: { type: bool, default: true, description: whether the holding step may run again after a crash }
// ---
var work = Params.Get<string>("work");

await Step("first", ct =>
{
    File.AppendAllText(Path.Combine(work, "first.log"), $"ran in attempt {Run.Attempt}\n");
    return Task.CompletedTask;
});

await Step("hold", async ct =>
{
    File.AppendAllText(Path.Combine(work, "hold.log"), $"held in attempt {Run.Attempt}\n");
    using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
    while (!File.Exists(Path.Combine(work, "release")) && await tick.WaitForNextTickAsync(ct))
    {
    }
}, idempotent: Params.Get<bool>("idempotent"));
