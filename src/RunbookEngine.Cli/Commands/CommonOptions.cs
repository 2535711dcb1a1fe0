using System.CommandLine;
using RunbookEngine.Scripting.Compilation;

namespace RunbookEngine.Cli.Commands;

/// <summary>Options several commands share, so they read the same everywhere.</summary>
internal static class CommonOptions
{
    public const string DefaultFolder = "runbooks";

    public static Option<string> Dir() => new("--dir", "-d")
    {
        Description = "The runbook folder.",
        DefaultValueFactory = _ => DefaultFolder,
    };

    public static Option<bool> NoCache() => new("--no-cache")
    {
        Description = "Compile without reading or writing the compile cache.",
    };

    public static RunbookCompiler Compiler(bool noCache) => new(noCache ? null : RunbookCompiler.DefaultCacheDirectory);
}
