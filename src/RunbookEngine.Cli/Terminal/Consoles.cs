using Spectre.Console;

namespace RunbookEngine.Cli.Terminal;

/// <summary>
/// Spectre consoles that behave in pipes: when output is redirected (CI logs, scripts) there are no escape codes and
/// lines are not wrapped at 80 columns, so the text can be searched and linked.
/// </summary>
internal static class Consoles
{
    public static IAnsiConsole StandardOutput => For(Console.Out, Console.IsOutputRedirected);

    public static IAnsiConsole StandardError => For(Console.Error, Console.IsErrorRedirected);

    public static IAnsiConsole For(TextWriter writer, bool redirected)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = redirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = redirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = redirected ? InteractionSupport.No : InteractionSupport.Detect,
        });
        if (redirected)
        {
            console.Profile.Width = 200;
        }

        return console;
    }
}
