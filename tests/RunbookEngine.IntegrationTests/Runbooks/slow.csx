// ---
// description: Waits until cancelled, after leaving a marker that it started
// parameters:
//   marker: { type: string, required: true }
// ---
await Step("wait for cancel", async ct =>
{
    File.WriteAllText(Params.Get<string>("marker"), "started");
    var never = new TaskCompletionSource();
    using var registration = ct.Register(() => never.TrySetCanceled());
    await never.Task;
});
