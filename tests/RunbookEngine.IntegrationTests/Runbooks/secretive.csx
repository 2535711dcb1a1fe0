// ---
// description: Uses a secret parameter in a log line and a command
// parameters:
//   token: { type: string, secret: true, required: true }
// ---
var token = Params.Get<string>("token");
await Step("use token", async ct =>
{
    Log.Info($"calling the API with {token}");
    await Shell($"echo Authorization: Bearer {token}", ct);
});
