// ---
// description: Answers the checkout latency incident of the custom acme source, whose payload shape is mapped in configuration
// alerts:
//   - name: CheckoutLatencyHigh
//     source: custom/acme
//     labels: { region: "eu-.*" }
// parameters:
//   service: { type: string, required: true, from: labels.service }
// ---
await Step("look", ct => Task.CompletedTask);
