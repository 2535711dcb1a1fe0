// ---
// description: Greets someone in two steps
// parameters:
//   who: { type: string, required: true }
//   times: { type: int, default: 1 }
// ---
var who = Params.Get<string>("who");
var greeting = await Step("compose", ct => Task.FromResult($"hello, {who}"));
await Step("say it", ct =>
{
    for (var i = 0; i < Params.Get<int>("times"); i++)
    {
        Log.Info(greeting);
    }

    return Task.CompletedTask;
});
