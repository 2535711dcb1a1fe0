// ---
// description: Started by a flapping alert until its circuit breaker opens
// alerts:
//   - name: Flapping
//     source: generic
// ---
await Step("act", ct => Task.CompletedTask);
