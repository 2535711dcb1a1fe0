// ---
// description: Ignores its cancellation token in a process of its own, with a child process of its own
// parameters:
//   mode: { type: string, default: spin, values: [spin, block] }
// isolation: process
// timeout: 15s
// ---
#r "System.Diagnostics.Process"
#r "System.ComponentModel.Primitives"
var mode = Params.Get<string>("mode");

// Started behind the SDK's back, so only killing the whole process tree stops it.
var sleeper = System.Diagnostics.Process.Start("sleep", "600");
Log.Info($"started sleeper {sleeper.Id}");
await Step("ignore the token", ct =>
{
    if (mode == "spin")
    {
        while (true)
        {
        }
    }

    new ManualResetEventSlim(false).Wait();
    return Task.CompletedTask;
});
