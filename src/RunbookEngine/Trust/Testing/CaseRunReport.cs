namespace RunbookEngine.Trust.Testing;

/// <summary>
/// How the test cases of a runbook folder went when run in a process of their own (<see cref="CaseProcess"/>): each
/// case that finished, and why the rest did not run, if they did not.
/// </summary>
/// <param name="Cases">The cases that finished, in order.</param>
/// <param name="Error">Why the run of the cases stopped short (a timeout, a crash), or null when every case finished.</param>
/// <param name="Skipped">Why no case was run at all (a setting, a fork), or null.</param>
/// <param name="Unfinished">The case that was running when the process was killed or died, relative to the runbook folder, or null.</param>
public sealed record CaseRunReport(IReadOnlyList<CaseOutcome> Cases, string? Error = null, string? Skipped = null, string? Unfinished = null)
{
    /// <summary>The cases that failed.</summary>
    public IReadOnlyList<CaseOutcome> Failed => [.. Cases.Where(c => !c.Passed)];

    /// <summary>Whether every case ran and passed (also true when there are none).</summary>
    public bool Passed => Error is null && Cases.All(c => c.Passed);

    /// <summary>No case was run, for the reason given.</summary>
    /// <param name="why">The reason, for the check's summary.</param>
    /// <returns>The report.</returns>
    public static CaseRunReport NotRun(string why) => new([], Skipped: why);
}

/// <summary>One case's outcome, as its process reports it.</summary>
/// <param name="File">The case file, relative to the runbook folder, with <c>/</c> separators (<c>tests/RUNBOOK/CASE.yaml</c>).</param>
/// <param name="Runbook">The runbook it tests.</param>
/// <param name="Name">The case's name.</param>
/// <param name="Failures">Every difference from what it expects, with the case file's line; none when it passed.</param>
public sealed record CaseOutcome(string File, string Runbook, string Name, IReadOnlyList<CaseFailure> Failures)
{
    /// <summary>Whether it passed.</summary>
    public bool Passed => Failures.Count == 0;
}
