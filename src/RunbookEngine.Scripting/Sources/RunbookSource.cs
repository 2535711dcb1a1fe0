using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace RunbookEngine.Scripting.Sources;

/// <summary>
/// A runbook's source closure: its file and every file it <c>#load</c>s, read once, confined to the runbook folder,
/// and hashed. The hash identifies the version that runs and keys the compile cache.
/// </summary>
public sealed partial class RunbookSource
{
    private RunbookSource(string name, string root, string mainPath, IReadOnlyList<SourceFile> files, IReadOnlyList<RunbookDiagnostic> diagnostics)
    {
        Name = name;
        Root = root;
        MainPath = mainPath;
        Files = files;
        Diagnostics = diagnostics;
        ContentHash = Hash(files);
    }

    /// <summary>The runbook's name: its file name without <c>.csx</c>.</summary>
    public string Name { get; }

    /// <summary>The runbook folder, absolute; <c>#load</c> may not leave it.</summary>
    public string Root { get; }

    /// <summary>The runbook file, absolute.</summary>
    public string MainPath { get; }

    /// <summary>The runbook file first, then the loaded helpers in the order found.</summary>
    public IReadOnlyList<SourceFile> Files { get; }

    /// <summary>The runbook's own text.</summary>
    public string Text => Files[0].Text;

    /// <summary>Problems with <c>#load</c> directives (escapes, missing files).</summary>
    public IReadOnlyList<RunbookDiagnostic> Diagnostics { get; }

    /// <summary>SHA-256 (hex) of every file's folder-relative path and text.</summary>
    public string ContentHash { get; }

    /// <summary>Reads a runbook and the helpers it loads.</summary>
    /// <param name="root">The runbook folder.</param>
    /// <param name="path">The runbook file.</param>
    /// <returns>The closure; check <see cref="Diagnostics"/>.</returns>
    public static RunbookSource Load(string root, string path)
    {
        var fullRoot = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var mainPath = Path.GetFullPath(path);
        var realRoot = RealPath.Of(fullRoot);
        var diagnostics = new List<RunbookDiagnostic>();
        var files = new List<SourceFile>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>();
        pending.Enqueue(mainPath);
        seen.Add(mainPath);
        while (pending.Count > 0)
        {
            var current = pending.Dequeue();
            var text = File.ReadAllText(current);
            files.Add(new SourceFile(Path.GetRelativePath(fullRoot, current).Replace('\\', '/'), current, text));
            foreach (var (target, line) in LoadDirectives(text))
            {
                var resolved = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(current)!, target));
                if (!IsInside(realRoot, RealPath.Of(resolved)))
                {
                    diagnostics.Add(RunbookDiagnostic.Error(current, line, "RB200",
                        $"#load \"{target}\" points outside the runbook folder {RunbookDiagnostic.DisplayPath(fullRoot)}/ (symbolic links included); helpers must live inside it"));
                }
                else if (!File.Exists(resolved))
                {
                    diagnostics.Add(RunbookDiagnostic.Error(current, line, "RB201", $"#load \"{target}\": no such file ({RunbookDiagnostic.DisplayPath(resolved)})"));
                }
                else if (seen.Add(resolved))
                {
                    pending.Enqueue(resolved);
                }
            }
        }

        return new RunbookSource(Path.GetFileNameWithoutExtension(mainPath), fullRoot, mainPath, files, diagnostics);
    }

    /// <summary>Whether <paramref name="path"/> lies inside <paramref name="root"/>.</summary>
    /// <param name="root">An absolute folder, without a trailing separator.</param>
    /// <param name="path">An absolute path.</param>
    /// <returns>True when inside.</returns>
    public static bool IsInside(string root, string path) =>
        path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    private static IEnumerable<(string Target, int Line)> LoadDirectives(string text)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var match = LoadPattern().Match(lines[i]);
            if (match.Success)
            {
                yield return (match.Groups["path"].Value, i + 1);
            }
        }
    }

    private static string Hash(IReadOnlyList<SourceFile> files)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files.OrderBy(f => f.RelativePath, StringComparer.Ordinal))
        {
            sha.AppendData(Encoding.UTF8.GetBytes(file.RelativePath));
            sha.AppendData([0]);
            sha.AppendData(Encoding.UTF8.GetBytes(file.Text));
            sha.AppendData([0]);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    [GeneratedRegex(@"^\s*#load\s+""(?<path>[^""]+)""")]
    private static partial Regex LoadPattern();
}

/// <summary>One file of a runbook's closure.</summary>
/// <param name="RelativePath">Its path inside the runbook folder, with '/'.</param>
/// <param name="FullPath">Its absolute path.</param>
/// <param name="Text">Its text as read.</param>
public sealed record SourceFile(string RelativePath, string FullPath, string Text);
