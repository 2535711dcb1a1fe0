namespace RunbookEngine.Sdk.Hosting;

/// <summary>Where a host looks secrets up.</summary>
public interface ISecretStore
{
    /// <summary>The secret's value, or null when it is not configured.</summary>
    /// <param name="name">The secret's name.</param>
    /// <returns>The value or null.</returns>
    string? Find(string name);

    /// <summary>Tells a person where the secret would be looked up, for the error when it is missing.</summary>
    /// <param name="name">The secret's name.</param>
    /// <returns>A sentence such as "set the environment variable RUNBOOK_SECRET_X".</returns>
    string Describe(string name);
}
