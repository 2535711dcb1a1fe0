// ---
// description: One of two runbooks that answer the same alert
// alerts:
//   - name: NeedsTwoFixes
// ---
await Step("fix b", ct => Task.CompletedTask);
