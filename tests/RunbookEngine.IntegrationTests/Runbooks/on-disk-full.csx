// ---
// description: Answers DiskFull alerts from any source; leaves a file named after the instance it was given
// alerts:
//   - name: DiskFull
//     labels: { severity: "critical|warning" }
// parameters:
//   instance: { type: string, required: true, from: labels.instance }
//   work: { type: string, default: "", from: annotations.work }
// ---
var work = Params.Get<string>("work");
await Step("clean", ct =>
{
    if (work.Length > 0)
    {
        File.WriteAllText(Path.Combine(work, "cleaned-" + Params.Get<string>("instance").Replace(':', '_')), Alert?.Name ?? "no alert");
    }

    return Task.CompletedTask;
});
