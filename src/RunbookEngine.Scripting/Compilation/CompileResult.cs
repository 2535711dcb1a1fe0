namespace RunbookEngine.Scripting.Compilation;

/// <summary>The outcome of compiling a runbook. Compile errors are results, never exceptions.</summary>
/// <param name="Runbook">The loaded version, or null when there are errors.</param>
/// <param name="Diagnostics">Errors and warnings, each with file and line.</param>
/// <param name="FromCache">True when the image came from the disk cache and Roslyn was not used.</param>
/// <param name="Elapsed">How long compiling (or loading from the cache) took.</param>
public sealed record CompileResult(CompiledRunbook? Runbook, IReadOnlyList<RunbookDiagnostic> Diagnostics, bool FromCache, TimeSpan Elapsed)
{
    /// <summary>True when the runbook compiled.</summary>
    public bool Success => Runbook is not null;

    /// <summary>Only the errors.</summary>
    public IEnumerable<RunbookDiagnostic> Errors => Diagnostics.Where(d => d.IsError);
}
