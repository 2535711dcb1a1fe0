using System.CommandLine;
using RunbookEngine.Cli;
using RunbookEngine.Cli.Commands;

var root = new RootCommand("runbook: validate, scaffold, list, test and run RunbookEngine runbooks (C# scripts with YAML front matter).")
{
    ValidateCommand.Create(),
    RunCommand.Create(),
    ListCommand.Create(),
    NewCommand.Create(),
    TriggerCommand.Create(),
    RunsCommand.Create(),
    IncidentsCommand.Create(),
    PostmortemCommand.Create(),
    VersionsCommand.Create(),
    SlosCommand.Create(),
    CompleteCommand.Create(),
    VerdictCommand.Create(),
    ToilCommand.Create(),
    GameDayCommand.Create(),
    TestCommand.Create(),
    RecordCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        await Console.Error.WriteLineAsync($"runbook: {error.Message}");
    }

    await Console.Error.WriteLineAsync("Try 'runbook --help'.");
    return ExitCodes.Usage;
}

// Ctrl+C cancels the run; the executor then gives the script up to 5 s to record how its steps ended, so the
// process waits longer than that before giving up on it.
return await parsed.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(15) });
