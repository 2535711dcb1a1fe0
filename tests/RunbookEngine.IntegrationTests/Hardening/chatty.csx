// ---
// description: Writes twenty megabytes of output through Log or through a command
// parameters:
//   via: { type: string, values: [log, shell] }
// ---
var via = Params.Get<string>("via");
await Step("talk", async ct =>
{
    if (via == "log")
    {
        var line = new string('x', 1000);
        for (var i = 0; i < 20_000; i++)
        {
            Log.Info(line);
        }

        Log.Info(new string('y', 5_000_000));
    }
    else
    {
        await Shell("sh", ["-c", "head -c 20000000 /dev/zero | tr '\\0' x; yes 0123456789 | head -c 20000000 >&2"], ct, check: true);
    }
});
Log.Info("chatty done");
