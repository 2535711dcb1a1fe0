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

    /// <summary>Reads repeated <c>--param name=value</c> pairs; the error names the first pair that is not one.</summary>
    public static bool TryParseParameters(IEnumerable<string> pairs, out Dictionary<string, string> parameters, out string? error)
    {
        parameters = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs)
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                error = $"--param '{pair}' is not name=value";
                return false;
            }

            parameters[pair[..equals]] = pair[(equals + 1)..];
        }

        error = null;
        return true;
    }

    public static RunbookCompiler Compiler(bool noCache) => new(noCache ? null : RunbookCompiler.DefaultCacheDirectory);
}
