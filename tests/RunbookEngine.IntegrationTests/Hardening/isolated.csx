// ---
// description: A well-behaved runbook in a process of its own that asks a person
// isolation: process
// parameters:
//   hold: { type: bool, default: false }
// timeout: 5m
// ---
var pid = await Step("greet", async ct =>
{
    Log.Info("hello from a process of its own");
    Console.WriteLine("straight to the console");
    await Shell("echo from the shell", ct, check: true);
    return Environment.ProcessId;
});
if (Params.Get<bool>("hold"))
{
    // Held until the run is cancelled or interrupted: the tests end it that way.
    await Step("hold", async ct =>
    {
        var released = new TaskCompletionSource();
        using var registration = ct.Register(() => released.TrySetCanceled(ct));
        await released.Task;
    });
}

await Approve("Go on?");
await Step("after", ct =>
{
    Log.Info($"after the approval; first process {pid}, now {Environment.ProcessId}");
    return Task.CompletedTask;
});
