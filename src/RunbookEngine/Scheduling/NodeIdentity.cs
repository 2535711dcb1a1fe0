namespace RunbookEngine.Scheduling;

/// <summary>This node's identity in the cluster and on every run it executes.</summary>
/// <param name="Id">The node id.</param>
public sealed record NodeIdentity(string Id);
