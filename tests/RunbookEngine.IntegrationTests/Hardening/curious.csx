// ---
// description: In a process of its own, says which of the host's credentials it can see in its environment
// isolation: process
// timeout: 5m
// ---
await Step("look", ct =>
{
    var seen = Environment.GetEnvironmentVariables().Keys.Cast<string>()
        .Where(name => name.Contains("Access", StringComparison.OrdinalIgnoreCase) || name.Contains("Sources", StringComparison.OrdinalIgnoreCase) || name.Contains("Password", StringComparison.OrdinalIgnoreCase))
        .Order()
        .ToList();
    Log.Info($"token visible: {Environment.GetEnvironmentVariable("RunbookEngine__Access__Tokens__alice") is not null}");
    Log.Info($"secret visible: {Environment.GetEnvironmentVariable("RUNBOOK_SECRET_CURIOUS") is not null}");
    Log.Info($"credentials seen: [{string.Join(",", seen)}]");
    return Task.CompletedTask;
});
