using System.Reflection;
using System.Runtime.Loader;

namespace RunbookEngine.Scripting.Compilation;

/// <summary>
/// One collectible context per runbook version, so unloading a version frees its code (ROSLYN.md: 179 MB flat after 500
/// versions versus 959 MB without). Everything else, the SDK included, resolves from the default context: the script's
/// globals type must be the host's own.
/// </summary>
internal sealed class RunbookLoadContext(string name) : AssemblyLoadContext(name, isCollectible: true)
{
    protected override Assembly? Load(AssemblyName assemblyName) => null;
}
