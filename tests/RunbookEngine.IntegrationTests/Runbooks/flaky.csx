// ---
// description: Prepares once, then fails until its third attempt; for run-level retry tests
// parameters:
//   work: { type: string, required: true }
//   succeed_on: { type: int, default: 3 }
// retries: 2
// retry_backoff: 1s
// ---
var work = Params.Get<string>("work");
await Step("prepare", ct =>
{
    File.AppendAllText(Path.Combine(work, "prepare.log"), $"attempt {Run.Attempt}\n");
    return Task.CompletedTask;
});

await Step("flaky", ct =>
{
    if (Run.Attempt < Params.Get<int>("succeed_on"))
    {
        throw new RunbookFailedException($"not yet (attempt {Run.Attempt})");
    }

    return Task.CompletedTask;
});
