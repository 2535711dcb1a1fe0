namespace RunbookEngine.Sdk;

/// <summary>
/// Thrown when a resumed run reaches a step that was in flight when its node died and that is not marked idempotent:
/// running it again could repeat a side effect, so a person must decide.
/// </summary>
public sealed class StepInterruptedException : RunbookFailedException
{
    /// <summary>Creates the exception for the interrupted step.</summary>
    /// <param name="sequence">The step's position in the run.</param>
    /// <param name="name">The step's name.</param>
    public StepInterruptedException(int sequence, string name)
        : base($"step {sequence} '{name}' was in flight when the run was interrupted and is not marked idempotent; check what it did, then retry the run")
    {
        Sequence = sequence;
        StepName = name;
    }

    /// <summary>Creates the exception for a step that must not run again, saying why.</summary>
    /// <param name="sequence">The step's position in the run.</param>
    /// <param name="name">The step's name.</param>
    /// <param name="message">Why a person must decide.</param>
    public StepInterruptedException(int sequence, string name, string message)
        : base(message)
    {
        Sequence = sequence;
        StepName = name;
    }

    /// <summary>The step's position in the run.</summary>
    public int Sequence { get; }

    /// <summary>The step's name.</summary>
    public string StepName { get; }
}
