// ---
// description: In a process of its own, runs `env` and shows what the command inherited
// isolation: process
// timeout: 5m
// ---
await Step("env", async ct =>
{
    var env = await Shell("env");
    Log.Info($"inherited {env.StdOut.Split('\n').Length} lines, PATH among them: {env.StdOut.Contains("PATH=", StringComparison.Ordinal)}");
});
