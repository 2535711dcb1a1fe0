using System.CommandLine;
using RunbookEngine.Scripting.Sources;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook new NAME</c>: writes a valid, commented runbook to start from.</summary>
internal static class NewCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The runbook name, e.g. restart-api (letters, digits, '-', '_')." };
        var dir = CommonOptions.Dir();
        var command = new Command("new", "Scaffold a new runbook.") { name, dir };
        command.SetAction(parse => Run(parse.GetValue(name)!, parse.GetValue(dir)!));
        return command;
    }

    private static int Run(string name, string path)
    {
        if (!RunbookFolder.IsValidName(name))
        {
            Console.Error.WriteLine($"runbook: '{name}' is not a valid runbook name: use letters, digits, '-', '_' and '.'");
            return ExitCodes.Usage;
        }

        Directory.CreateDirectory(path);
        var file = Path.Combine(path, name + ".csx");
        if (File.Exists(file))
        {
            Console.Error.WriteLine($"runbook: {file} already exists");
            return ExitCodes.Failed;
        }

        File.WriteAllText(file, Template(name));
        Console.WriteLine($"created {file}");
        Console.WriteLine($"try it:  runbook run {name} --dir {path} --dry-run");
        return ExitCodes.Ok;
    }

    private static string Template(string name) => $$$"""
        // ---
        // description: Say in one line what {{{name}}} fixes
        // owner: your-team
        // alerts:                        # alerts that start it; remove if it is run by hand only
        //   - name: ExampleAlert
        //     labels: { severity: "warning|critical" }
        // parameters:
        //   target: { type: string, default: localhost, from: labels.instance, description: the host to act on }
        // manual_minutes: 10             # what doing this by hand costs a person
        // concurrency: "{{ params.target }}"
        // timeout: 5m
        // ---
        var target = Params.Get<string>("target");

        var uptime = await Step("inspect", ct => Shell("uptime", ct, readOnly: true), timeout: TimeSpan.FromSeconds(10));
        Log.Info($"{target}: {uptime.StdOut.Trim()}");

        await Step("remediate", async ct =>
        {
            await Shell($"echo remediating {target}", ct);
        }, retries: 2, sideEffects: true);

        """;
}
