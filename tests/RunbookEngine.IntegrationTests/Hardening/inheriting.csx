// ---
// description: In a process of its own, starts processes that write to the standard output they inherit, a lot of it
// isolation: process
// timeout: 5m
// ---
await Step("before", async ct =>
{
    // More than a pipe holds, on the run's process's own standard output.
    using var chatty = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", "echo not a result; for i in $(seq 1 200); do printf '%01000d\\n' $i; done"]) { UseShellExecute = false })!;
    await chatty.WaitForExitAsync(ct);
    Log.Info($"the chatty process exited with {chatty.ExitCode}");
});

await Step("after", ct =>
{
    // Still writing after the run's process reported how the run ended.
    System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("sh", ["-c", "sleep 1; echo after the result; seq 1 20000"]) { UseShellExecute = false })!.Dispose();
    Log.Info($"mark visible: {Environment.GetEnvironmentVariable("RUNBOOKENGINE_RESULT_MARK") is not null}");
    return Task.CompletedTask;
});
