using System.Text.RegularExpressions;
using RunbookEngine.Scripting.FrontMatter;

namespace RunbookEngine.Scripting.Sources;

/// <summary>
/// A folder of runbooks: every <c>*.csx</c> directly inside is a runbook; subfolders (such as <c>lib/</c>) hold helpers
/// that runbooks <c>#load</c>. Names cannot reach outside the folder.
/// </summary>
public sealed partial class RunbookFolder
{
    /// <summary>Creates a view of a folder.</summary>
    /// <param name="path">The folder.</param>
    public RunbookFolder(string path)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
    }

    /// <summary>The folder, absolute.</summary>
    public string Root { get; }

    /// <summary>Whether the folder exists.</summary>
    public bool Exists => Directory.Exists(Root);

    /// <summary>The runbooks' names, sorted.</summary>
    /// <returns>The names.</returns>
    public IReadOnlyList<string> Names() =>
        [.. Directory.EnumerateFiles(Root, "*.csx", SearchOption.TopDirectoryOnly)
            .Select(Path.GetFileNameWithoutExtension)
            .OfType<string>()
            .Where(IsValidName)
            .Order(StringComparer.Ordinal)];

    /// <summary>Whether a name is a safe runbook name: letters, digits, '-', '_' and '.', not starting with '.'.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when valid.</returns>
    public static bool IsValidName(string name) => NamePattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal);

    /// <summary>The file of a runbook, or null when the name is unsafe or no such runbook exists.</summary>
    /// <param name="name">The runbook name.</param>
    /// <returns>The absolute path, or null.</returns>
    public string? PathOf(string name)
    {
        if (!IsValidName(name))
        {
            return null;
        }

        var path = Path.Combine(Root, name + ".csx");
        return File.Exists(path) && RunbookSource.IsInside(RealPath.Of(Root), RealPath.Of(path)) ? path : null;
    }

    /// <summary>Reads a runbook's source closure and front matter, without compiling it.</summary>
    /// <param name="name">The runbook name.</param>
    /// <returns>The document, or null when there is no such runbook.</returns>
    public RunbookDocument? Read(string name)
    {
        var path = PathOf(name);
        if (path is null)
        {
            return null;
        }

        var source = RunbookSource.Load(Root, path);
        var frontMatter = FrontMatterParser.Parse(RunbookDiagnostic.DisplayPath(path), source.Text);
        return new RunbookDocument(name, source, frontMatter.Definition, [.. frontMatter.Errors, .. source.Diagnostics]);
    }

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    private static partial Regex NamePattern();
}

/// <summary>A runbook as read from its folder: source, front matter, and what is wrong with them.</summary>
/// <param name="Name">The runbook name.</param>
/// <param name="Source">Its source closure.</param>
/// <param name="Definition">Its front matter, or null when invalid.</param>
/// <param name="Diagnostics">Front matter and <c>#load</c> errors.</param>
public sealed record RunbookDocument(string Name, RunbookSource Source, RunbookDefinition? Definition, IReadOnlyList<RunbookDiagnostic> Diagnostics)
{
    /// <summary>True when front matter and <c>#load</c>s are valid (compilation is a separate check).</summary>
    public bool IsValid => Definition is not null && !Diagnostics.Any(d => d.IsError);
}
