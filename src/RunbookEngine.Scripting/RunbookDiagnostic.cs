namespace RunbookEngine.Scripting;

/// <summary>A problem with a runbook, located in a file: front matter, <c>#load</c> or compiler errors alike.</summary>
/// <param name="File">The file, as a path relative to the working directory when it lies below it.</param>
/// <param name="Line">1-based line.</param>
/// <param name="Column">1-based column, or 0 when unknown.</param>
/// <param name="Severity">Error or warning.</param>
/// <param name="Code">The compiler's id (CS0103) or ours (RB1xx).</param>
/// <param name="Message">What is wrong and, where we can tell, what to write instead.</param>
public sealed record RunbookDiagnostic(string File, int Line, int Column, DiagnosticSeverity Severity, string Code, string Message)
{
    /// <summary>True for errors.</summary>
    public bool IsError => Severity == DiagnosticSeverity.Error;

    /// <summary>An error in a file.</summary>
    /// <param name="file">The file.</param>
    /// <param name="line">The line.</param>
    /// <param name="code">Our code.</param>
    /// <param name="message">The message.</param>
    /// <returns>The diagnostic.</returns>
    public static RunbookDiagnostic Error(string file, int line, string code, string message) =>
        new(DisplayPath(file), line, 0, DiagnosticSeverity.Error, code, message);

    /// <summary><c>runbooks/disk-full.csx:7: message</c>, the form editors and CI logs link.</summary>
    /// <returns>The text.</returns>
    public override string ToString() =>
        $"{File}:{Line}:{(Column > 0 ? $"{Column}:" : "")} {(Severity == DiagnosticSeverity.Warning ? "warning: " : "")}{Message}";

    /// <summary>A path relative to the working directory when it lies below it, else absolute.</summary>
    /// <param name="path">Any path.</param>
    /// <returns>The path to show.</returns>
    public static string DisplayPath(string path)
    {
        if (!System.IO.Path.IsPathRooted(path))
        {
            return path.Replace('\\', '/');
        }

        var relative = System.IO.Path.GetRelativePath(Environment.CurrentDirectory, path);
        return (relative.StartsWith("..", StringComparison.Ordinal) ? path : relative).Replace('\\', '/');
    }
}

/// <summary>How bad a diagnostic is.</summary>
public enum DiagnosticSeverity
{
    /// <summary>The runbook still compiles and runs.</summary>
    Warning,

    /// <summary>The runbook cannot run.</summary>
    Error,
}
