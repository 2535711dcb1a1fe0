// ---
// description: Two steps in a process of its own, for the trace tests
// isolation: process
// timeout: 5m
// ---
await Step("first", ct =>
{
    Log.Info("first step");
    return Task.CompletedTask;
});

await Step("second", ct =>
{
    Log.Info("second step");
    return Task.CompletedTask;
});
