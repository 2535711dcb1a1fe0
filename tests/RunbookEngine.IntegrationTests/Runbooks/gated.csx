// ---
// description: Asks a lead before acting, with a deadline given as a parameter
// parameters:
//   wait: { type: string, default: 1h, description: how long the approval waits }
// manual_minutes: 10
// ---
Durations.TryParse(Params.Get<string>("wait"), out var wait);
await Step("prepare", ct => Task.CompletedTask);
await Approve("Go ahead?", timeout: wait, role: "lead");
await Step("act", ct => Task.CompletedTask);
