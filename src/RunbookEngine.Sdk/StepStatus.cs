namespace RunbookEngine.Sdk;

/// <summary>Where a step stands. Journals record <see cref="Running"/> and <see cref="WaitingForHuman"/> before a step ends.</summary>
public enum StepStatus
{
    /// <summary>The step has started and has not finished.</summary>
    Running,

    /// <summary>A person has been asked to act and has not answered yet.</summary>
    WaitingForHuman,

    /// <summary>The step finished without error.</summary>
    Succeeded,

    /// <summary>The step threw on its last attempt.</summary>
    Failed,

    /// <summary>The step's last attempt ran past its timeout.</summary>
    TimedOut,

    /// <summary>The run was cancelled while the step ran.</summary>
    Cancelled,

    /// <summary>The step did not run: a dry run skipped its side effects.</summary>
    Skipped,

    /// <summary>
    /// The host shut down while the step ran. The run goes back to the queue; when it resumes, the step runs again only
    /// if it is idempotent, otherwise the run waits for a person.
    /// </summary>
    Interrupted,
}
