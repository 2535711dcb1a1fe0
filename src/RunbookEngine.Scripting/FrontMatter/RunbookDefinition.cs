using RunbookEngine.Sdk;
using RunbookEngine.Sdk.Hosting;

namespace RunbookEngine.Scripting.FrontMatter;

/// <summary>A runbook's front matter, validated. See the README's front matter reference for each key.</summary>
public sealed record RunbookDefinition
{
    /// <summary>The run timeout when the front matter gives none.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(30);

    /// <summary>The delay before the first run-level retry when none is given.</summary>
    public static readonly TimeSpan DefaultRetryBackoff = TimeSpan.FromSeconds(30);

    /// <summary>What the runbook does, for people.</summary>
    public required string Description { get; init; }

    /// <summary>The team or person to ask about it.</summary>
    public string? Owner { get; init; }

    /// <summary>Free labels such as a service name, for grouping reports.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Which alerts start it: any rule that matches does.</summary>
    public IReadOnlyList<AlertRule> Alerts { get; init; } = [];

    /// <summary>When it runs on its own, if ever.</summary>
    public CronSchedule? Schedule { get; init; }

    /// <summary>Its typed parameters, in declaration order.</summary>
    public IReadOnlyList<ParameterDefinition> Parameters { get; init; } = [];

    /// <summary>What one run costs a person by hand, in minutes: the toil baseline.</summary>
    public double? ManualMinutes { get; init; }

    /// <summary>A template naming the target, e.g. <c>{{ labels.instance }}</c>: one run at a time per rendered key.</summary>
    public string? Concurrency { get; init; }

    /// <summary>What a second run for a busy concurrency key does.</summary>
    public ConflictPolicy OnConflict { get; init; } = ConflictPolicy.Queue;

    /// <summary>How long one run may take.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>How many times a failed run is retried as a whole.</summary>
    public int Retries { get; init; }

    /// <summary>The delay before the first run-level retry, doubled for each later one.</summary>
    public TimeSpan RetryBackoff { get; init; } = DefaultRetryBackoff;

    /// <summary>After a run for a target, alerts for the same runbook and target start no new run for this long.</summary>
    public TimeSpan? Cooldown { get; init; }

    /// <summary>Whether a resolved alert cancels its runs that are still queued or waiting for a person.</summary>
    public bool CancelOnResolve { get; init; }

    /// <summary>Where the run's code executes: in the host's process (the default) or in a process of its own.</summary>
    public Isolation Isolation { get; init; } = Isolation.InProcess;

    /// <summary>How far its runs may act on their own: auto (the default), confirm or shadow.</summary>
    public RunMode Mode { get; init; } = RunMode.Auto;

    /// <summary>Who may approve a confirm-mode run's first side effect (<c>confirm:</c>).</summary>
    public ConfirmSettings Confirm { get; init; } = new();

    /// <summary>The error budget its alert-started runs are gated on (<c>budget_gate:</c>), if any.</summary>
    public BudgetGate? BudgetGate { get; init; }

    /// <summary>When and against what the host drills it in shadow mode, if ever.</summary>
    public DrillDefinition? Drill { get; init; }

    /// <summary>The date by which a person should have reviewed it again; past it, the runbook is stale.</summary>
    public DateOnly? ReviewBy { get; init; }

    /// <summary>How a game day breaks, checks and restores what the runbook fixes, if it has one.</summary>
    public GameDayDefinition? GameDay { get; init; }

    /// <summary>
    /// Which events of this runbook go to which named channels (<c>notify:</c>), by <see cref="NotifyEvents"/> name. An
    /// event named here replaces the host's default route for it; one not named keeps the default.
    /// </summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Notify { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary>The parameter named <paramref name="name"/>, or null.</summary>
    /// <param name="name">The parameter name.</param>
    /// <returns>Its definition.</returns>
    public ParameterDefinition? Parameter(string name) => Parameters.FirstOrDefault(p => p.Name == name);
}

/// <summary>Where a run's code executes.</summary>
public enum Isolation
{
    /// <summary>In the host's process: cheapest, but code that ignores its token keeps a thread busy until the host stops.</summary>
    InProcess,

    /// <summary>In a child process of the host, with a memory limit, killed with its whole tree at the timeout or on cancel.</summary>
    Process,
}

/// <summary>A <c>drill:</c> block: on a schedule, a shadow run against a test case's alert or a recorded alert.</summary>
/// <param name="Schedule">When the drill runs.</param>
/// <param name="Case">A test case of the runbook (<c>tests/RUNBOOK/CASE.yaml</c> beside it) whose alert the drill uses.</param>
/// <param name="Alert">Or the id of an alert the host recorded.</param>
public sealed record DrillDefinition(CronSchedule Schedule, string? Case, string? Alert);

/// <summary>A <c>gameday:</c> block: commands run by the host, each split into arguments like <c>Shell()</c> (no shell).</summary>
/// <param name="Inject">Breaks what the runbook fixes.</param>
/// <param name="Verify">Exits 0 once the fault is gone; retried until then.</param>
/// <param name="Restore">Cleans up whatever happened, always run last; nothing when null.</param>
/// <param name="Timeout">How long the whole game day may take before it is called failed (and restored).</param>
public sealed record GameDayDefinition(string Inject, string Verify, string? Restore, TimeSpan Timeout)
{
    /// <summary>The game day timeout when the block gives none.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(10);
}

/// <summary>What a run does when another run holds its concurrency key.</summary>
public enum ConflictPolicy
{
    /// <summary>Wait in order until the key is free.</summary>
    Queue,

    /// <summary>Do not start; record why.</summary>
    Refuse,
}

/// <summary>One <c>alerts:</c> rule: every condition it gives must hold.</summary>
/// <param name="Name">The alert name, matched exactly; any name when null.</param>
/// <param name="Source">The alert source (alertmanager, grafana, ...); any when null.</param>
/// <param name="Labels">Label name to a regular expression that must match the whole value.</param>
/// <param name="Line">Where the rule is written, for messages.</param>
public sealed record AlertRule(string? Name, string? Source, IReadOnlyDictionary<string, string> Labels, int Line);

/// <summary>One declared parameter.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Type">Its type.</param>
/// <param name="Required">Whether a run must supply it (directly, from the alert, or by default).</param>
/// <param name="Default">Its default, already of <paramref name="Type"/>.</param>
/// <param name="From">Where an alert supplies it: <c>labels.X</c>, <c>annotations.X</c> or <c>alert.name|source|severity|fingerprint|status</c>.</param>
/// <param name="Description">What it means.</param>
/// <param name="Secret">Whether its value is masked everywhere.</param>
/// <param name="Values">The allowed values, when restricted.</param>
public sealed record ParameterDefinition(
    string Name,
    ParameterType Type,
    bool Required,
    object? Default,
    string? From,
    string? Description,
    bool Secret,
    IReadOnlyList<string>? Values);

/// <summary>A parameter's type.</summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Naming", "CA1720", Justification = "The names are the words front matter uses.")]
public enum ParameterType
{
    /// <summary>Text.</summary>
    String,

    /// <summary>A whole number (read as <see cref="long"/>; <c>Get&lt;int&gt;</c> works).</summary>
    Int,

    /// <summary>A number with a fraction (read as <see cref="double"/>).</summary>
    Number,

    /// <summary>true or false.</summary>
    Bool,

    /// <summary>A duration such as 10m (read as <see cref="TimeSpan"/>).</summary>
    Duration,
}
