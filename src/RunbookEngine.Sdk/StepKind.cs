namespace RunbookEngine.Sdk;

/// <summary>Who does the work of a step: the machine, or a person.</summary>
public enum StepKind
{
    /// <summary>Code in the runbook does the work.</summary>
    Automated,

    /// <summary>A person does the work and confirms it (<see cref="RunbookContext.Manual"/>).</summary>
    Manual,

    /// <summary>A person decides whether the run may go on (<see cref="RunbookContext.Approve"/>).</summary>
    Approval,
}
