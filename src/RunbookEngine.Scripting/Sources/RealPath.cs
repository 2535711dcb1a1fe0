namespace RunbookEngine.Scripting.Sources;

/// <summary>
/// The path with every symbolic link along it resolved, like realpath(3). Containment checks compare real paths:
/// comparing strings would let a linked folder inside the runbook folder point anywhere.
/// </summary>
public static class RealPath
{
    private const int MaxLinks = 40;

    /// <summary>Resolves every link in the path; parts that do not exist are kept as written.</summary>
    /// <param name="path">Any path.</param>
    /// <returns>The absolute real path.</returns>
    public static string Of(string path) => Resolve(Path.GetFullPath(path), 0);

    private static string Resolve(string full, int depth)
    {
        if (depth > MaxLinks)
        {
            throw new IOException($"too many levels of symbolic links resolving {full}");
        }

        var root = Path.GetPathRoot(full) ?? "/";
        var current = root;
        foreach (var part in full[root.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            var next = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            if (info.Exists && info.LinkTarget is { } target)
            {
                var absolute = Path.IsPathRooted(target) ? target : Path.Combine(current, target);
                current = Resolve(Path.GetFullPath(absolute), depth + 1);
            }
            else
            {
                current = next;
            }
        }

        return current;
    }
}
