// ---
// description: Ignores its cancellation token, spinning a core or blocking forever
// parameters:
//   mode: { type: string, default: spin, values: [spin, block] }
// timeout: 8s
// ---
var mode = Params.Get<string>("mode");
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
