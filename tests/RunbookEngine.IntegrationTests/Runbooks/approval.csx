// ---
// description: Asks anyone for a yes, then acts
// manual_minutes: 5
// ---
await Approve("Proceed?");
await Step("proceed", ct => Task.CompletedTask);
