// ---
// description: Greets someone in three steps that can be held open, so someone watching sees them arrive one by one
// parameters:
//   who: { type: string, required: true }
//   gate: { type: string, description: "a folder; when given, step N also holds until a file named N appears in it" }
// manual_minutes: 3
// ---
var who = Params.Get<string>("who");
var gate = Params.Get<string>("gate", "");

// A gate lets a test see each step running without guessing how long it takes.
async Task PaceAsync(int step, CancellationToken ct)
{
    using var tick = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
    while (gate.Length > 0 && !File.Exists(Path.Combine(gate, step.ToString(System.Globalization.CultureInfo.InvariantCulture))) && await tick.WaitForNextTickAsync(ct))
    {
    }
}

await Step("look around", async ct =>
{
    await PaceAsync(1, ct);
    Log.Info($"looked for {who}");
});
await Step("compose", async ct =>
{
    await PaceAsync(2, ct);
    Log.Info($"composed a greeting for {who}");
});
await Step("say it", async ct =>
{
    await PaceAsync(3, ct);
    Log.Info($"hello, {who}");
});
