// ---
// description: Answers Alertmanager's HighLatency alerts, one run per instance
// alerts:
//   - name: HighLatency
//     source: alertmanager
//     labels: { service: "checkout|cart" }
// parameters:
//   instance: { type: string, required: true, from: labels.instance }
// ---
await Step("drain", ct => Task.CompletedTask);
