using System.Reflection;
using System.Reflection.Metadata;
using System.Text.Json;

namespace RunbookEngine.Scripting.Compilation;

/// <summary>
/// Empties the framework's reflection caches that hold script types (System.Text.Json keeps metadata for every type it
/// has serialised), so an unloaded runbook version can really be collected. It uses the same hook .NET hot reload
/// calls after code changes: the handler types that assemblies declare with <see cref="MetadataUpdateHandlerAttribute"/>.
/// </summary>
internal static class ReflectionCaches
{
    private static readonly Lazy<Action[]> Clearers = new(Find);

    public static void Clear()
    {
        foreach (var clear in Clearers.Value)
        {
            clear();
        }
    }

    private static Action[] Find()
    {
        var clearers = new List<Action>();
        foreach (var attribute in typeof(JsonSerializer).Assembly.GetCustomAttributes<MetadataUpdateHandlerAttribute>())
        {
            var method = attribute.HandlerType.GetMethod("ClearCache", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, [typeof(Type[])]);
            if (method is not null)
            {
                clearers.Add(() => method.Invoke(null, [null]));
            }
        }

        return [.. clearers];
    }
}
