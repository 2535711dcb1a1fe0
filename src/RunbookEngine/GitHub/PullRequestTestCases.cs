namespace RunbookEngine.GitHub;

/// <summary>
/// Which pull requests' runbook test cases the host runs for their check. Anything but <see cref="Off"/> runs the pull
/// request's code as the host's user, able to read and write what the host can: there is no OS sandbox around it.
/// </summary>
public enum PullRequestTestCases
{
    /// <summary>None, the default: a pull request's runbooks are compiled, never run.</summary>
    Off,

    /// <summary>Pull requests whose head branch is in the followed repository (whose authors can push there); a fork's are compiled only.</summary>
    SameRepository,

    /// <summary>Every pull request, forks' included: their code runs on the host as its user (in a process of its own, without the host's settings in its environment).</summary>
    All,
}
