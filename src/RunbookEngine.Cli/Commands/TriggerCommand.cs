using System.CommandLine;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using RunbookEngine.Sdk;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook trigger NAME --server URL [-p k=v] [--wait]</c>: starts a run on a host, and with --wait follows it to its end.</summary>
internal static class TriggerCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("NAME") { Description = "The runbook to run." };
        var parameters = new Option<string[]>("--param", "-p") { Description = "A parameter as name=value; repeat for more." };
        var wait = new Option<bool>("--wait", "-w") { Description = "Follow the run's steps until it ends; exit 0 only if it succeeded." };
        var server = HostClient.ServerOption();
        var command = new Command("trigger", "Start a run on a RunbookEngine host.") { name, parameters, wait, server };
        command.SetAction((parse, token) => RunAsync(parse.GetValue(name)!, parse.GetValue(parameters) ?? [], parse.GetValue(wait), new Uri(parse.GetValue(server)!), token));
        return command;
    }

    private static async Task<int> RunAsync(string name, string[] pairs, bool wait, Uri server, CancellationToken cancellationToken)
    {
        if (!CommonOptions.TryParseParameters(pairs, out var parameters, out var parameterError))
        {
            await Console.Error.WriteLineAsync($"runbook: {parameterError}");
            return ExitCodes.Usage;
        }

        var console = Consoles.StandardOutput;
        using var host = new HostClient(server);
        try
        {
            var (status, body) = await host.SendAsync(HttpMethod.Post, $"/api/runbooks/{Uri.EscapeDataString(name)}/runs", new { parameters, by = Environment.UserName }, cancellationToken);
            if (status != 202)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} refused the run ({status}): {HostClient.Describe(body)}");
                return status is 400 or 404 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var runId = body.GetProperty("runId").GetString()!;
            console.MarkupLine($"run [bold]{runId}[/] of {Markup.Escape(name)} queued on {Markup.Escape(server.ToString())}");
            if (!wait)
            {
                return ExitCodes.Ok;
            }

            return await FollowAsync(host, server, console, runId, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }

    /// <summary>Shows each step as it appears or changes, until the run ends.</summary>
    private static async Task<int> FollowAsync(HostClient host, Uri server, IAnsiConsole console, string runId, CancellationToken cancellationToken)
    {
        var shown = new Dictionary<int, string>();
        var hinted = 0;
        while (true)
        {
            // The host answers when the run ends or after 2 s, whichever is first: progress without a busy loop.
            var (_, body) = await host.SendAsync(HttpMethod.Get, $"/api/runs/{runId}?wait=2s", null, cancellationToken);
            foreach (var step in body.GetProperty("steps").EnumerateArray())
            {
                var sequence = step.GetProperty("sequence").GetInt32();
                var state = step.GetProperty("status").GetString()!;
                if (shown.TryGetValue(sequence, out var before) && before == state)
                {
                    continue;
                }

                shown[sequence] = state;
                var error = step.TryGetProperty("error", out var e) ? ": " + Markup.Escape(e.GetString() ?? "") : "";
                var stepStatus = Enum.Parse<StepStatus>(state);
                console.MarkupLine($"  {TerminalJournal.Icon(stepStatus)} {sequence}. {Markup.Escape(step.GetProperty("name").GetString()!)} [grey]({TerminalJournal.Status(stepStatus)})[/]{error}");
            }

            var run = body.GetProperty("run");
            var status = run.GetProperty("status").GetString()!;
            if (status is "Queued" or "Running")
            {
                continue;
            }

            // Resting on a question: say how to answer it, and keep following while someone does.
            if (status == "WaitingForHuman" && body.GetProperty("steps").EnumerateArray().LastOrDefault(s => s.GetProperty("status").GetString() == "WaitingForHuman") is { ValueKind: JsonValueKind.Object } asked)
            {
                var sequence = asked.GetProperty("sequence").GetInt32();
                if (hinted != sequence)
                {
                    console.MarkupLine($"  [yellow]waits for a person:[/] runbook complete {runId} {sequence} --server {Markup.Escape(server.ToString())} [grey](--reject to refuse)[/]");
                    hinted = sequence;
                }

                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
                continue;
            }

            // A shadow run's end: what it would have done is the result, and asking for a verdict is the next step.
            if (status == "Proposed")
            {
                console.MarkupLine($"[blue]Proposed[/]: {Markup.Escape(RunsCommand.Proposal(run))}");
                console.MarkupLine($"  give a verdict: runbook verdict {runId} right|wrong --server {Markup.Escape(server.ToString())}");
                return ExitCodes.Ok;
            }

            var reason = run.TryGetProperty("error", out var why) ? ": " + Markup.Escape(why.GetString() ?? "") : "";
            console.MarkupLine($"{(status == "Succeeded" ? "[green]" : "[red]")}{status}[/]{reason}");
            return status == "Succeeded" ? ExitCodes.Ok : ExitCodes.Failed;
        }
    }
}
