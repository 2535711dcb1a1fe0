// ---
// description: Runs at most once an hour per alert target
// alerts:
//   - name: CoolMe
// cooldown: 1h
// ---
await Step("act", ct => Task.CompletedTask);
