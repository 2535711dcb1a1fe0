using System.CommandLine;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook list</c>: the runbooks in a folder with what triggers them (front matter only; no compile).</summary>
internal static class ListCommand
{
    private static readonly IAnsiConsole Out = Consoles.StandardOutput;

    public static Command Create()
    {
        var dir = CommonOptions.Dir();
        var command = new Command("list", "List the runbooks in a folder with their triggers and schedule.") { dir };
        command.SetAction(parse => Run(parse.GetValue(dir)!));
        return command;
    }

    private static int Run(string path)
    {
        var folder = new RunbookFolder(path);
        if (!folder.Exists)
        {
            Console.Error.WriteLine($"runbook: no folder '{path}'");
            return ExitCodes.Usage;
        }

        var table = new Table().AddColumns("Runbook", "Description", "Alerts", "Schedule (UTC)", "Front matter");
        foreach (var name in folder.Names())
        {
            var document = folder.Read(name)!;
            var definition = document.Definition;
            var alerts = definition is null ? "" : string.Join(", ", definition.Alerts.Select(a => a.Name ?? "(by labels)"));
            var schedule = definition?.Schedule is { } cron
                ? $"{cron.Expression} (next {cron.NextOccurrence(TimeProvider.System.GetUtcNow()):yyyy-MM-dd HH:mm})"
                : "";
            var state = document.IsValid ? "[green]ok[/]" : $"[red]{document.Diagnostics.Count(d => d.IsError)} error(s)[/]";
            table.AddRow(Markup.Escape(name), Markup.Escape(definition?.Description ?? ""), Markup.Escape(alerts), Markup.Escape(schedule), state);
        }

        Out.Write(table);
        return ExitCodes.Ok;
    }
}
