namespace RunbookEngine;

/// <summary>The engine's settings, bound from the <c>RunbookEngine</c> configuration section (environment: <c>RUNBOOKENGINE__...</c>).</summary>
public sealed class RunbookEngineOptions
{
    /// <summary>The configuration section.</summary>
    public const string Section = "RunbookEngine";

    /// <summary>The folder of runbooks. Default <c>runbooks</c>.</summary>
    public string RunbooksPath { get; set; } = "runbooks";

    /// <summary>Where the embedded store and the compile cache live. Default <c>data</c>.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary><c>sqlite</c> (embedded, one node; the default) or <c>postgres</c> (clustered).</summary>
    public string Storage { get; set; } = "sqlite";

    /// <summary>The PostgreSQL connection string, for <c>Storage = postgres</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>This node's name in the cluster and on runs. Default: the machine name and process id.</summary>
    public string? NodeId { get; set; }

    /// <summary>How many runs one node executes at once. Default 10.</summary>
    public int MaxConcurrentRuns { get; set; } = 10;

    /// <summary>How long a node waits for running steps to finish on shutdown before interrupting them. Default 30s.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether this node executes runs. A node set to false still records, schedules, cancels and serves runs (an API
    /// or webhook front end in a cluster); the other nodes execute them. Default true.
    /// </summary>
    public bool ExecutesRuns { get; set; } = true;

    /// <summary>True when the PostgreSQL store is selected.</summary>
    public bool UsesPostgres => string.Equals(Storage, "postgres", StringComparison.OrdinalIgnoreCase);
}
