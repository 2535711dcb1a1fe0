// ---
// description: Does not compile
// ---
var ok = 1;

await Step("uses an undefined name", ct => Task.FromResult(ok + missingVariable));
