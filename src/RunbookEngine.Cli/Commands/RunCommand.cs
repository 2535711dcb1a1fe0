using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using RunbookEngine.Cli.Terminal;
using RunbookEngine.Scripting.Compilation;
using RunbookEngine.Scripting.Execution;
using RunbookEngine.Scripting.Parameters;
using RunbookEngine.Scripting.Sources;
using RunbookEngine.Sdk;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook run NAME</c>: compiles and runs a runbook on this machine, showing each step live.</summary>
internal static class RunCommand
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The runbook to run (its file name without .csx)." };
        var parameters = new Option<string[]>("--param", "-p")
        {
            Description = "A parameter as name=value; repeat for more.",
            AllowMultipleArgumentsPerToken = false,
        };
        var alert = new Option<FileInfo?>("--alert") { Description = "A JSON file with the alert that triggers the run (generic shape or an Alertmanager webhook body)." };
        var dir = CommonOptions.Dir();
        var dryRun = new Option<bool>("--dry-run") { Description = "Run the script, but only report what Shell commands and side-effecting steps would do." };
        var yes = new Option<bool>("--yes", "-y") { Description = "Approve every manual step and approval without asking." };
        var mode = new Option<string?>("--mode")
        {
            Description = "shadow (run what only reads, propose the rest), confirm (ask before the first side effect) or auto; the runbook's mode: when not given.",
        };
        mode.AcceptOnlyFromAmong("shadow", "confirm", "auto");
        var json = new Option<bool>("--json") { Description = "Print the result as JSON on standard output; progress goes to standard error." };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Also show every command run and how the runbook was loaded." };
        var noCache = CommonOptions.NoCache();
        var command = new Command("run", "Run a runbook locally, with live step progress and a summary.")
        {
            name, parameters, alert, dir, dryRun, yes, mode, json, verbose, noCache,
        };
        command.SetAction((parse, token) => RunAsync(
            new Invocation(
                parse.GetValue(name)!,
                parse.GetValue(parameters) ?? [],
                parse.GetValue(alert),
                parse.GetValue(dir)!,
                parse.GetValue(dryRun),
                parse.GetValue(yes),
                parse.GetValue(mode) is { } chosen ? Enum.Parse<RunMode>(chosen, ignoreCase: true) : null,
                parse.GetValue(json),
                parse.GetValue(verbose),
                parse.GetValue(noCache)),
            token));
        return command;
    }

    private static async Task<int> RunAsync(Invocation options, CancellationToken cancellationToken)
    {
        // With --json, standard output carries only the result document.
        var console = options.Json ? Consoles.StandardError : Consoles.StandardOutput;

        var time = TimeProvider.System;
        var folder = new RunbookFolder(options.Dir);
        var document = folder.Exists ? folder.Read(options.Name) : null;
        if (document is null)
        {
            var known = folder.Exists ? string.Join(", ", folder.Names()) : "";
            await Console.Error.WriteLineAsync(folder.Exists
                ? $"runbook: no runbook '{options.Name}' in {options.Dir}{(known.Length > 0 ? $" (there: {known})" : "")}"
                : $"runbook: no folder '{options.Dir}'");
            return ExitCodes.Usage;
        }

        if (!document.IsValid)
        {
            foreach (var diagnostic in document.Diagnostics)
            {
                await Console.Error.WriteLineAsync(diagnostic.ToString());
            }

            return ExitCodes.Failed;
        }

        if (!CommonOptions.TryParseParameters(options.Parameters, out var supplied, out var parameterError))
        {
            await Console.Error.WriteLineAsync($"runbook: {parameterError}");
            return ExitCodes.Usage;
        }

        RunbookAlert? alert = null;
        if (options.Alert is { } alertFile)
        {
            try
            {
                alert = AlertFile.Read(alertFile.FullName, time);
            }
            catch (Exception ex) when (ex is IOException or JsonException or FormatException or UnauthorizedAccessException or InvalidOperationException or KeyNotFoundException)
            {
                await Console.Error.WriteLineAsync($"runbook: cannot read the alert in {alertFile}: {ex.Message}");
                return ExitCodes.Usage;
            }
        }

        var definition = document.Definition!;
        var bound = ParameterBinder.Bind(definition, supplied, alert);
        if (bound.Parameters is null)
        {
            foreach (var error in bound.Errors)
            {
                await Console.Error.WriteLineAsync($"runbook: {error}");
            }

            return ExitCodes.Usage;
        }

        using var compiler = CommonOptions.Compiler(options.NoCache);
        var compiled = await console.Status().StartAsync($"compiling {options.Name}…", _ => compiler.CompileAsync(document.Source, cancellationToken));
        if (options.Verbose)
        {
            console.MarkupLine($"[grey]{(compiled.FromCache ? "loaded from the compile cache" : "compiled")} in {Durations.Format(compiled.Elapsed)}; Roslyn loaded: {(RunbookCompiler.IsRoslynLoaded ? "yes" : "no")}[/]");
        }

        foreach (var diagnostic in compiled.Diagnostics)
        {
            await Console.Error.WriteLineAsync(diagnostic.ToString());
        }

        if (compiled.Runbook is not { } runbook)
        {
            return ExitCodes.Failed;
        }

        using (runbook)
        {
            var runMode = options.Mode ?? definition.Mode;
            var run = new RunInfo($"local-{Guid.NewGuid():N}", options.Name, 1, alert is null ? RunTrigger.Manual : RunTrigger.Alert,
                alert?.Fingerprint ?? Environment.UserName, GitCommit(folder.Root), document.Source.ContentHash, options.DryRun, runMode);
            var modeNote = runMode == RunMode.Auto ? "" : $"{runMode.ToString().ToLowerInvariant()} mode, ";
            console.MarkupLine($"[bold]{Markup.Escape(options.Name)}[/] [grey]{(options.DryRun ? "dry run, " : "")}{modeNote}{Markup.Escape(bound.Parameters.ToString())}[/]");
            var result = await RunbookExecutor.ExecuteAsync(
                new RunRequest
                {
                    Runbook = runbook,
                    Definition = definition,
                    Run = run,
                    Parameters = bound.Parameters,
                    Alert = alert,
                    Journal = new TerminalJournal(console),
                    HumanGate = new TerminalHumanGate(console, Console.In, options.Yes, time),
                    LogSink = new TerminalLogSink(console, options.Verbose),
                    Confirm = definition.Confirm,
                    Time = time,
                },
                cancellationToken);

            if (options.Json)
            {
                Console.WriteLine(JsonSerializer.Serialize(new JsonResult(run.Id, options.Name, result.Status, result.Error, result.Duration.TotalMilliseconds, run.ContentHash, run.Commit, compiled.FromCache, result.Steps, runMode, result.Proposal), Json));
            }
            else
            {
                Summarise(console, result);
            }

            // A shadow run that stopped where it would have acted did what it was asked to.
            return result.Status is RunStatus.Succeeded or RunStatus.Proposed ? ExitCodes.Ok : ExitCodes.Failed;
        }
    }

    private static void Summarise(IAnsiConsole console, RunResult result)
    {
        var table = new Table().AddColumns("#", "Step", "Status", "Attempts", "Duration", "By");
        foreach (var step in result.Steps)
        {
            table.AddRow(
                step.Sequence.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Markup.Escape(step.Name),
                $"{TerminalJournal.Icon(step.Status)} {TerminalJournal.Status(step.Status)}",
                step.Attempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
                step.Duration is { } d ? Durations.Format(d) : "",
                Markup.Escape(step.Actor));
        }

        console.Write(table);
        if (result.Proposal is { } proposal)
        {
            console.MarkupLine($"[yellow]proposed, not done[/]: {Markup.Escape(proposal.Action)} [bold]{Markup.Escape(proposal.Step)}[/]"
                + (proposal.Description is { } description ? $" ({Markup.Escape(description)})" : "")
                + (proposal.Detail is { } detail && detail != proposal.Step ? $": {Markup.Escape(detail)}" : ""));
        }

        var colour = result.Status switch { RunStatus.Succeeded => "green", RunStatus.Proposed => "yellow", _ => "red" };
        var error = result.Error is null ? "" : ": " + Markup.Escape(result.Error);
        console.MarkupLine($"[{colour}]{result.Status}[/] in {Durations.Format(result.Duration)}{error}");
    }

    /// <summary>The commit of the folder's Git work tree, so a local run also records what it ran; null outside Git.</summary>
    private static string? GitCommit(string folder)
    {
        try
        {
            var start = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var argument in new[] { "-C", folder, "rev-parse", "HEAD" })
            {
                start.ArgumentList.Add(argument);
            }

            using var git = Process.Start(start)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 && output.Length == 40 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private sealed record Invocation(string Name, string[] Parameters, FileInfo? Alert, string Dir, bool DryRun, bool Yes, RunMode? Mode, bool Json, bool Verbose, bool NoCache);

    private sealed record JsonResult(string RunId, string Runbook, RunStatus Status, string? Error, double DurationMs, string ContentHash, string? Commit, bool FromCache, IReadOnlyList<StepOutcome> Steps, RunMode Mode, RunProposal? Proposal);
}
