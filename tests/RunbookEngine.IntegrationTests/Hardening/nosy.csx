// ---
// description: In the host's process, runs `env` and shows what the command inherited
// timeout: 5m
// ---
await Step("env", async ct =>
{
    var env = await Shell("env");
    Log.Info($"inherited {env.StdOut.Split('\n').Length} lines, PATH among them: {env.StdOut.Contains("PATH=", StringComparison.Ordinal)}");
});
