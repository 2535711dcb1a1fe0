using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;

namespace RunbookEngine.Trust;

/// <summary>How far a run may act on its own.</summary>
public static class RunModes
{
    /// <summary>The runbook's <c>mode:</c>, except that a drill only ever looks: it runs in shadow mode whatever the runbook says.</summary>
    /// <param name="definition">The version that runs.</param>
    /// <param name="trigger">What started the run.</param>
    /// <returns>The run's mode.</returns>
    public static RunMode For(RunbookDefinition definition, RunTrigger trigger)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return trigger == RunTrigger.Drill ? RunMode.Shadow : definition.Mode;
    }
}
