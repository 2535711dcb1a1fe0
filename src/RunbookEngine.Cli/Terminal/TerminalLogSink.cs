using Microsoft.Extensions.Logging;
using RunbookEngine.Sdk.Hosting;
using Spectre.Console;

namespace RunbookEngine.Cli.Terminal;

/// <summary>Shows a runbook's log lines under the step they belong to; debug lines (commands run) only with --verbose.</summary>
internal sealed class TerminalLogSink(IAnsiConsole console, bool verbose) : IRunLogSink
{
    public void Write(LogLevel level, string message, string? stepName)
    {
        if (level < LogLevel.Information && !verbose)
        {
            return;
        }

        var colour = level switch
        {
            >= LogLevel.Error => "red",
            LogLevel.Warning => "yellow",
            LogLevel.Information => "default",
            _ => "grey",
        };
        var indent = stepName is null ? "" : "   ";
        console.MarkupLine($"{indent}[{colour}]│ {Markup.Escape(message)}[/]");
    }
}
