// ---
// description: Answers the Datadog monitor of the captured custom payloads (event_id, event_tags, alert_transition), one run per host
// alerts:
//   - name: "Dock is almost out of memory..."
//     source: datadog
//     labels: { role: dock }
// parameters:
//   host: { type: string, required: true, from: labels.host }
// ---
await Step("look", ct => Task.CompletedTask);
