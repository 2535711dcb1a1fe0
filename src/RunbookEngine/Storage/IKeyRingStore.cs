namespace RunbookEngine.Storage;

/// <summary>The Data Protection key ring, kept in the store so every node of a cluster (and every run's own process) shares it.</summary>
public interface IKeyRingStore
{
    /// <summary>Every key's XML, oldest first.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The keys.</returns>
    Task<IReadOnlyList<string>> ReadProtectionKeysAsync(CancellationToken cancellationToken);

    /// <summary>Adds a key; a key of the same name already stored is kept (keys never change once written).</summary>
    /// <param name="name">The key's friendly name (its id).</param>
    /// <param name="xml">The key's XML.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>A task.</returns>
    Task SaveProtectionKeyAsync(string name, string xml, CancellationToken cancellationToken);
}
