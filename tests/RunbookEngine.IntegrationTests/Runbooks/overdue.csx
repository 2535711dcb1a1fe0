// ---
// description: A step with its own timeout, then a step that outlives the run's timeout
// timeout: 3s
// parameters:
//   stuck: { type: string, default: step, description: "'step' hangs past the step's timeout; 'run' hangs past the run's" }
// ---
if (Params.Get<string>("stuck") == "step")
{
    // Never completes and ignores its token on purpose: the step must still end at its timeout.
    await Step("hangs", ct => new TaskCompletionSource().Task, timeout: TimeSpan.FromMilliseconds(500));
}

await Step("outlives the run", async ct =>
{
    var never = new TaskCompletionSource();
    using var registration = ct.Register(() => never.TrySetCanceled());
    await never.Task;
});
