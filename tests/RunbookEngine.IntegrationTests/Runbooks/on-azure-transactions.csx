// ---
// description: Answers the Azure Monitor metric alert of Microsoft's sample payload, one run per storage account
// alerts:
//   - name: test-metricAlertRule
//     source: azure-monitor
//     labels: { metric_name: Transactions }
// parameters:
//   account: { type: string, required: true, from: labels.resource }
// ---
await Step("look", ct => Task.CompletedTask);
