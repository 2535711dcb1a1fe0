namespace RunbookEngine.GitHub;

/// <summary>Which pull requests' runbook test cases the host runs for their check.</summary>
public enum PullRequestTestCases
{
    /// <summary>None: a pull request's runbooks are compiled, never run.</summary>
    Off,

    /// <summary>Pull requests whose head branch is in the followed repository; a fork's are compiled only.</summary>
    SameRepository,

    /// <summary>Every pull request, forks' included: their code runs on the host (in a process of its own, without the host's credentials).</summary>
    All,
}
