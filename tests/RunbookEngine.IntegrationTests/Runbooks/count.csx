// ---
// description: Leaves one file per execution, named after the run; for exactly-once tests
// parameters:
//   dir: { type: string, required: true }
// ---
await Step("count", ct =>
{
    // A file per execution: appends from two processes to one file can overwrite each other.
    File.WriteAllText(Path.Combine(Params.Get<string>("dir"), $"{Run.Id}.{Guid.NewGuid():N}"), "");
    return Task.CompletedTask;
});
