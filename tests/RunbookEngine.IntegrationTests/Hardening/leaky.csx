// ---
// description: Tries every way to leak a secret and a secret parameter
// parameters:
//   password: { type: string, secret: true, required: true }
// ---
var token = Secrets.Get("leaky-token");
var password = Params.Get<string>("password");
Log.Info($"run level: token {token} password {password}");
await Step($"use {token}", async ct =>
{
    Log.Warn($"in a step: {token} {password}");
    await Shell($"echo {token} {password}", ct, check: true);
    await Shell("sh", ["-c", "echo \"$0 $1\" >&2; exit 3", token, password], ct);
});
var joined = await Step("return them", ct => Task.FromResult(token + "/" + password));
Log.Info($"the step returned {joined.Length} characters");
try
{
    await Step("throw them", ct => throw new InvalidOperationException($"bad {token} and {password}"));
}
catch (StepFailedException e)
{
    Log.Error($"caught: {e.Message} {e.InnerException?.Message}");
}

throw new RunbookFailedException($"giving up with {token} and {password}");
