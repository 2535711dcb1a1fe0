// ---
// description: Does not compile
// ---
await Step("oops", ct => Task.FromResult(undefinedName));
