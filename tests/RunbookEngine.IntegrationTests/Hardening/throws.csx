// ---
// description: Throws from a step
// ---
await Step("catch fire", ct => throw new InvalidOperationException("the disk is on fire"));
