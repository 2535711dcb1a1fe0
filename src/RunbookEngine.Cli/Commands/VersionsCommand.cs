using System.CommandLine;
using System.Globalization;
using System.Net.Http;
using System.Text.Json;
using RunbookEngine.Cli.Terminal;
using Spectre.Console;

namespace RunbookEngine.Cli.Commands;

/// <summary><c>runbook versions NAME [--server URL]</c>: the versions of a runbook a host has seen, newest first.</summary>
internal static class VersionsCommand
{
    public static Command Create()
    {
        var server = HostClient.ServerOption();
        var name = new Argument<string>("name") { Description = "The runbook." };
        var command = new Command("versions", "List the versions of a runbook a RunbookEngine host has seen: commit, author, time, message, hash, and whether it compiled.") { name, server };
        command.SetAction((parse, token) => RunAsync(new Uri(parse.GetValue(server)!), parse.GetValue(name)!, token));
        return command;
    }

    private static async Task<int> RunAsync(Uri server, string name, CancellationToken cancellationToken)
    {
        using var host = new HostClient(server);
        try
        {
            var (code, body) = await host.SendAsync(HttpMethod.Get, $"/api/runbooks/{Uri.EscapeDataString(name)}/versions", null, cancellationToken);
            if (code != 200)
            {
                await Console.Error.WriteLineAsync($"runbook: {server} answered {code}: {HostClient.Describe(body)}");
                return code == 404 ? ExitCodes.Usage : ExitCodes.Failed;
            }

            var table = new Table().AddColumns("", "Version", "Commit", "Author", "Committed (UTC)", "Message", "Valid");
            foreach (var version in body.EnumerateArray())
            {
                string Text(string property) => version.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";
                var committed = version.TryGetProperty("committedAt", out var at) && at.ValueKind == JsonValueKind.String
                    ? at.GetDateTimeOffset().ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture)
                    : "";
                var valid = version.GetProperty("valid").GetBoolean();
                table.AddRow(
                    version.GetProperty("serving").GetBoolean() ? "[green]▶[/]" : "",
                    Markup.Escape(Text("version")[..12]),
                    Markup.Escape(Text("commit") is { Length: > 12 } commit ? commit[..12] : Text("commit")),
                    Markup.Escape(Text("author")),
                    committed,
                    Markup.Escape(Text("message")),
                    valid ? "[green]yes[/]" : "[red]no[/]: " + Markup.Escape(string.Join("; ", version.GetProperty("errors").EnumerateArray().Select(e => e.GetString()))));
            }

            Consoles.StandardOutput.Write(table);
            return ExitCodes.Ok;
        }
        catch (HttpRequestException ex)
        {
            await Console.Error.WriteLineAsync($"runbook: cannot reach {server}: {ex.Message}");
            return ExitCodes.Failed;
        }
    }
}
