using RunbookEngine.Scripting.FrontMatter;
using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Trust;

/// <summary>How far a run may act on its own.</summary>
public static class RunModes
{
    /// <summary>The runbook's <c>mode:</c>, except that a drill only ever looks: it runs in shadow mode whatever the runbook says.</summary>
    /// <param name="definition">The version that runs.</param>
    /// <param name="trigger">What started the run.</param>
    /// <returns>The run's mode.</returns>
    public static RunMode For(RunbookDefinition definition, RunTrigger trigger) => For(definition, trigger, null);

    /// <summary>
    /// The runbook's <c>mode:</c>, made stricter by its budget gate when the gate held the run (auto becomes the gate's
    /// confirm or shadow; a stricter mode of the runbook's own stays). A drill only ever looks.
    /// </summary>
    /// <param name="definition">The version that runs.</param>
    /// <param name="trigger">What started the run.</param>
    /// <param name="gate">What the budget gate decided when the run was queued, if it was gated at all.</param>
    /// <returns>The run's mode.</returns>
    public static RunMode For(RunbookDefinition definition, RunTrigger trigger, Slos.BudgetGateDecision? gate)
    {
        ArgumentNullException.ThrowIfNull(definition);
        if (trigger == RunTrigger.Drill)
        {
            return RunMode.Shadow;
        }

        var gated = gate is { Gated: true } ? (gate.Then == "shadow" ? RunMode.Shadow : RunMode.Confirm) : RunMode.Auto;
        return Strictness(gated) > Strictness(definition.Mode) ? gated : definition.Mode;
    }

    /// <summary>
    /// Who approves and by when, for a run in confirm mode: the runbook's <c>confirm:</c>, and when the budget gate is what
    /// made an auto runbook ask and <c>confirm:</c> gives no deadline, the gate's <c>timeout</c> (30 min by default), so a
    /// gated run cannot hold its concurrency key for ever. Unanswered by then, it fails as on a confirm deadline.
    /// </summary>
    /// <param name="definition">The version that runs.</param>
    /// <param name="gate">What the budget gate decided when the run was queued, if it was gated at all.</param>
    /// <returns>The run's confirm settings.</returns>
    public static ConfirmSettings ConfirmFor(RunbookDefinition definition, Slos.BudgetGateDecision? gate)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return gate is { Gated: true } && definition.Mode == RunMode.Auto && definition.BudgetGate is { } own && definition.Confirm.Timeout is null
            ? definition.Confirm with { Timeout = own.Timeout }
            : definition.Confirm;
    }

    private static int Strictness(RunMode mode) => mode switch
    {
        RunMode.Shadow => 2,
        RunMode.Confirm => 1,
        _ => 0,
    };
}
